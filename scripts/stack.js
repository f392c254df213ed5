#!/usr/bin/env node
/*
 * `npm run stack`: the five server services on this machine, for trying Outpost by hand.
 * Postgres, RabbitMQ and S3 come from the environment (loopback defaults below); without
 * S3_ENDPOINT an s3rver keeps objects under .stack/s3. Ctrl-C stops everything.
 */
'use strict';

const { mkdirSync } = require('node:fs');
const { join, resolve } = require('node:path');

const repoRoot = resolve(__dirname, '..');
const stateDir = join(repoRoot, '.stack');

function loadLauncher() {
  try {
    return require('@outpost/test-support');
  } catch (error) {
    if (error && error.code === 'MODULE_NOT_FOUND') {
      console.error('stack: @outpost/test-support is not built; run `npm run build` first');
      process.exit(1);
    }
    throw error;
  }
}

function port(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    console.error(`stack: ${name}=${raw} is not a TCP port (1-65535)`);
    process.exit(1);
  }
  return value;
}

async function s3Service(support) {
  const region = process.env.S3_REGION || 'us-east-1';
  if (process.env.S3_ENDPOINT) {
    const missing = ['S3_ACCESS_KEY', 'S3_SECRET_KEY'].filter((name) => !process.env[name]);
    if (missing.length > 0) {
      console.error(`stack: S3_ENDPOINT is set but ${missing.join(' and ')} not; export the credentials`);
      process.exit(1);
    }
    const s3 = {
      endpoint: process.env.S3_ENDPOINT,
      accessKey: process.env.S3_ACCESS_KEY,
      secretKey: process.env.S3_SECRET_KEY,
      region,
    };
    return { s3, close: async () => undefined, origin: process.env.S3_ENDPOINT };
  }
  const directory = join(stateDir, 's3');
  mkdirSync(directory, { recursive: true });
  const server = await support.startS3rver({ port: port('S3RVER_PORT', 9000), directory });
  const s3 = { endpoint: server.endpoint, accessKey: server.accessKey, secretKey: server.secretKey, region };
  return { s3, close: () => server.close(), origin: `s3rver at ${server.endpoint}, data in ${directory}` };
}

async function main() {
  const support = loadLauncher();
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/outpost';
  const amqpUrl = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
  // Strong random values unless the environment fixes them; the services refuse weak ones.
  const generated = support.generateStackSecrets();
  const generatedToken = !process.env.ADMIN_TOKEN;
  const adminToken = process.env.ADMIN_TOKEN || generated.adminToken;
  const sessionKey = process.env.SESSION_KEY || generated.sessionKey;
  const internalToken = process.env.INTERNAL_TOKEN || generated.internalToken;
  const width = Math.max(...support.SERVER_SERVICES.map((name) => name.length));

  const { created } = await support.ensureDatabase(databaseUrl);
  if (created) console.log(`stack: created database ${support.redact(databaseUrl)}`);
  const storage = await s3Service(support);
  console.log(`stack: S3 from ${storage.origin}`);

  let stopping = false;
  const ports = {
    gateway: port('GATEWAY_PORT', 8080),
    admin: port('ADMIN_PORT', 8081),
    inboxStore: port('INBOX_STORE_PORT', 8090),
    registryHealth: 8091,
    applierHealth: 8092,
    routerHealth: 8093,
  };
  const launch = support.launchStack({
    repoRoot,
    databaseUrl,
    amqpUrl,
    s3: storage.s3,
    queuePrefix: process.env.QUEUE_PREFIX || 'outpost',
    bucketPrefix: process.env.S3_BUCKET_PREFIX || 'outpost',
    adminToken,
    sessionKey,
    internalToken,
    ports,
    logDir: join(stateDir, 'logs'),
    onOutput: (service, line) => console.log(`${service.padEnd(width)} | ${line}`),
    onUnexpectedExit: (service, code, signal) => {
      if (stopping) return;
      restartLater(service, `exited (code ${code}, signal ${signal})`);
    },
  });

  // As compose's restart policy and Kubernetes do: a service that exits unexpectedly is started
  // again, after a pause that doubles while it keeps failing (1 s up to 30 s) and resets once it
  // has run for a minute.
  const restarts = new Map();
  function restartLater(service, why) {
    const now = Date.now();
    const last = restarts.get(service) || { delay: 0, startedAt: 0 };
    const delay = now - last.startedAt > 60_000 ? 1000 : Math.min(last.delay * 2, 30_000);
    restarts.set(service, { delay, startedAt: now + delay });
    console.error(`stack: ${service} ${why}; restarting it in ${delay / 1000} s`);
    setTimeout(() => {
      if (stopping || !stack) return;
      stack.startService(service).then(
        () => console.error(`stack: ${service} restarted and healthy`),
        (error) => {
          if (!stopping && !stack.isRunning(service))
            restartLater(service, `did not start (${error.message})`);
          else if (!stopping)
            console.error(`stack: ${service} restarted but not healthy yet: ${error.message}`);
        },
      );
    }, delay).unref();
  }

  const shutdown = async (stack) => {
    if (stopping) {
      console.error('stack: stopping now');
      process.exit(130);
    }
    stopping = true;
    console.log('stack: stopping…');
    if (stack) await stack.stop();
    await storage.close();
    process.exit(0);
  };

  let stack;
  const onSignal = () => void shutdown(stack);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    stack = await launch;
  } catch (error) {
    console.error(`stack: ${error.message}`);
    await storage.close();
    process.exit(1);
  }
  if (stopping) return;
  console.log('');
  console.log(`stack: agents   ${stack.gatewayUrl}`);
  console.log(`stack: admin    ${stack.adminUrl}`);
  console.log(
    `stack: ADMIN_TOKEN=${adminToken}${generatedToken ? ' (generated; export ADMIN_TOKEN to fix it)' : ''}`,
  );
  const endpoints = support.serviceEndpoints(ports);
  for (const name of support.SERVER_SERVICES) {
    console.log(
      `stack: ${name.padEnd(width)}  health ${endpoints[name].health}  metrics ${endpoints[name].metrics}`,
    );
  }
  console.log(`stack: logs in  ${stack.logDir}; Ctrl-C to stop`);
}

main().catch((error) => {
  console.error(`stack: ${error && error.message ? error.message : error}`);
  process.exit(1);
});
