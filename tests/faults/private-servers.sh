#!/usr/bin/env bash
# Starts a Postgres cluster and a RabbitMQ node of their own for the fault suite's restart faults,
# so that restarting them disturbs nothing else on the machine (Debian packages: postgresql,
# rabbitmq-server; run as root). Prints the environment to run the suite with:
#
#   eval "$(bash tests/faults/private-servers.sh start)"
#   npx jest tests/faults/fault-suite.test.ts
#   bash tests/faults/private-servers.sh stop
#
# Ports: FAULTS_PG_PORT (5433) and FAULTS_AMQP_PORT (5673); the RabbitMQ node keeps its files in
# FAULTS_RABBITMQ_DIR (/var/tmp/outpost-faults-rabbitmq).
set -euo pipefail

pg_port=${FAULTS_PG_PORT:-5433}
amqp_port=${FAULTS_AMQP_PORT:-5673}
rabbit_dir=${FAULTS_RABBITMQ_DIR:-/var/tmp/outpost-faults-rabbitmq}
pg_version=$(ls /etc/postgresql | sort -V | tail -n 1)
cluster=outpost_faults
node=outpost-faults@localhost

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

start_postgres() {
  if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "${cluster}"; then
    pg_createcluster "${pg_version}" "${cluster}" -p "${pg_port}" >/dev/null
    local conf="/etc/postgresql/${pg_version}/${cluster}"
    cat >>"${conf}/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
wal_level = logical
max_replication_slots = 64
max_wal_senders = 64
max_connections = 200
EOF
    # Loopback only, like the pre-started test server.
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"${conf}/pg_hba.conf"
  fi
  pg_ctlcluster --skip-systemctl-redirect "${pg_version}" "${cluster}" start 2>/dev/null || true
  psql -h 127.0.0.1 -p "${pg_port}" -U postgres -d postgres -qtAc "SELECT 1 FROM pg_database WHERE datname = 'test'" |
    grep -q 1 || psql -h 127.0.0.1 -p "${pg_port}" -U postgres -d postgres -qc 'CREATE DATABASE test'
}

rabbit_env() {
  echo "RABBITMQ_NODENAME=${node} RABBITMQ_NODE_PORT=${amqp_port} RABBITMQ_DIST_PORT=$((amqp_port + 20000))" \
    "RABBITMQ_CONFIG_FILE=${rabbit_dir}/rabbitmq.conf RABBITMQ_ENABLED_PLUGINS_FILE=${rabbit_dir}/enabled_plugins" \
    "RABBITMQ_MNESIA_BASE=${rabbit_dir}/mnesia RABBITMQ_LOG_BASE=${rabbit_dir}/log RABBITMQ_PID_FILE=${rabbit_dir}/pid"
}

start_rabbitmq() {
  port_open "${amqp_port}" && return 0
  mkdir -p "${rabbit_dir}"
  echo "listeners.tcp.local = 127.0.0.1:${amqp_port}" >"${rabbit_dir}/rabbitmq.conf"
  echo '[].' >"${rabbit_dir}/enabled_plugins"
  chown -R rabbitmq "${rabbit_dir}"
  su rabbitmq -s /bin/sh -c "env HOME=/var/lib/rabbitmq $(rabbit_env) rabbitmq-server >${rabbit_dir}/out.log 2>&1 &"
  local deadline=$((SECONDS + 120))
  until port_open "${amqp_port}"; do
    if ((SECONDS >= deadline)); then
      echo "the RabbitMQ node ${node} did not open port ${amqp_port}: see ${rabbit_dir}/log" >&2
      return 1
    fi
    sleep 1
  done
}

case "${1:-}" in
  start)
    start_postgres >&2
    start_rabbitmq >&2
    cat <<EOF
export DATABASE_URL=postgres://postgres@127.0.0.1:${pg_port}/test
export AMQP_URL=amqp://guest:guest@127.0.0.1:${amqp_port}
export OUTPOST_FAULTS_RESTART_SHARED=1
export OUTPOST_FAULTS_POSTGRES_RESTART='pg_ctlcluster --skip-systemctl-redirect ${pg_version} ${cluster} restart'
export OUTPOST_FAULTS_RABBITMQ_RESTART='rabbitmqctl -q -n ${node} stop_app && rabbitmqctl -q -n ${node} start_app'
EOF
    ;;
  stop)
    rabbitmqctl -q -n "${node}" stop 2>/dev/null || true
    pg_ctlcluster --skip-systemctl-redirect "${pg_version}" "${cluster}" stop 2>/dev/null || true
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
