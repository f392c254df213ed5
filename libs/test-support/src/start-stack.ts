import { queueName, queues, type QueueKey } from '@outpost/contracts';
import { connect } from 'amqplib';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from './database';
import { launchStack, type LaunchConfig, type Stack } from './launcher';
import { freePorts } from './ports';
import { uniquePrefix } from './prefix';
import type { ServerService } from './service-process';
import { getServices, type TestServices } from './services';
import { generateStackSecrets, type StackPorts } from './stack-env';

export interface StartStackOptions {
  /** Database the services use; default a fresh database on DATABASE_URL's server, dropped by `stop()`. */
  databaseUrl?: string;
  /** QUEUE_PREFIX; default a unique prefix, whose queues `stop()` deletes. */
  queuePrefix?: string;
  /** S3_BUCKET_PREFIX; default the queue prefix. */
  bucketPrefix?: string;
  /** ADMIN_TOKEN; default a random one (SESSION_KEY and INTERNAL_TOKEN are always random). */
  adminToken?: string;
  /** The gateway serves HTTPS with this certificate (see LaunchConfig.gatewayTls). */
  gatewayTls?: LaunchConfig['gatewayTls'];
  /** Which services to run; default all five. */
  services?: readonly ServerService[];
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Extra environment for some services, on top of `env`. */
  serviceEnv?: LaunchConfig['serviceEnv'];
  /** Fixed ports; default free loopback ports. */
  ports?: Partial<StackPorts>;
  /** Where the `<service>.log` files go; default a new temp directory. */
  logDir?: string;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** Repository root holding `services/*\/dist`; default the one this package lives in. */
  repoRoot?: string;
}

/**
 * Runs the server services as child processes on free loopback ports against the test services
 * (DATABASE_URL, AMQP_URL, S3_* from the jest global setup, or started here), each isolated by
 * its own database and prefixes, so tests can run side by side on one broker and one S3 endpoint.
 */
export async function startStack(options: StartStackOptions = {}): Promise<Stack> {
  const backing: TestServices = await getServices();
  let database: TestDatabase | undefined;
  try {
    if (options.databaseUrl === undefined) database = await createTestDatabase('stack', backing.databaseUrl);
    const queuePrefix = options.queuePrefix ?? uniquePrefix('stack');
    const [gateway, admin, inboxStore, registryHealth, applierHealth, routerHealth] = await freePorts(6);
    const secrets = generateStackSecrets();
    const config: LaunchConfig = {
      repoRoot: options.repoRoot ?? defaultRepoRoot(),
      databaseUrl: options.databaseUrl ?? (database as TestDatabase).url,
      amqpUrl: backing.amqpUrl,
      s3: backing.s3,
      queuePrefix,
      bucketPrefix: options.bucketPrefix ?? queuePrefix,
      ...secrets,
      adminToken: options.adminToken ?? secrets.adminToken,
      gatewayTls: options.gatewayTls,
      ports: { gateway, admin, inboxStore, registryHealth, applierHealth, routerHealth, ...options.ports },
      services: options.services,
      env: options.env,
      serviceEnv: options.serviceEnv,
      logDir: options.logDir ?? mkdtempSync(join(tmpdir(), 'outpost-stack-')),
      readyTimeoutMs: options.readyTimeoutMs,
      stopTimeoutMs: options.stopTimeoutMs,
    };
    const stack = await launchStack(config);
    return {
      ...stack,
      async stop() {
        await stack.stop();
        // A prefix chosen here belongs to this stack alone; one given by the caller may outlive it.
        if (options.queuePrefix === undefined) await deleteQueues(backing.amqpUrl, queuePrefix);
        await database?.drop();
        await backing.stop();
      },
    };
  } catch (error) {
    await database?.drop().catch(() => undefined);
    await backing.stop();
    throw error;
  }
}

/** Deletes the stack's queues so that runs do not pile up durable queues on a shared broker. */
async function deleteQueues(amqpUrl: string, prefix: string): Promise<void> {
  const connection = await connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    for (const key of Object.keys(queues) as QueueKey[]) await channel.deleteQueue(queueName(prefix, key));
    await channel.close();
  } finally {
    await connection.close();
  }
}

/** The monorepo root: this file sits in `libs/test-support/{src,dist}`. */
export function defaultRepoRoot(): string {
  return resolve(__dirname, '..', '..', '..');
}
