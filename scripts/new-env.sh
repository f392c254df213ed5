#!/usr/bin/env bash
# Prints an .env for `docker compose` (the variables of .env.example) with a strong random value
# for every password, token and key: `scripts/new-env.sh > .env`. Hex, so the values are safe
# inside URLs.
set -euo pipefail
echo "COMPOSE_PROJECT_NAME=outpost"
for name in ADMIN_TOKEN INTERNAL_TOKEN SESSION_KEY POSTGRES_PASSWORD RABBITMQ_PASSWORD MINIO_ROOT_PASSWORD; do
  echo "${name}=$(openssl rand -hex 32)"
done
echo "MINIO_ROOT_USER=outpost"
