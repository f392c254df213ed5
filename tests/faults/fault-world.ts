import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import {
  createTestDatabase,
  freePorts,
  getServices,
  startS3rver,
  startStack,
  TcpProxy,
  uniquePrefix,
  type RunningS3rver,
  type Stack,
  type TestDatabase,
  type TestServices,
} from '@outpost/test-support';

/**
 * A stack whose every path can be broken without touching anything shared: the services reach
 * Postgres and RabbitMQ through loopback TCP proxies (cut = the database or broker went away for
 * this stack only), S3 is an s3rver of its own on a fixed port and folder (so it can be stopped and
 * started again with its objects), and laptops reach the gateway through a proxy that cuts, stalls
 * and slows their connections. The test's own database pool connects directly.
 */
export interface FaultWorld {
  stack: Stack;
  /** The stack as laptops see it: its gateway URL goes through `proxies.gateway`. */
  laptopStack: Stack;
  db: Pool;
  databaseUrl: string;
  proxies: { gateway: TcpProxy; postgres: TcpProxy; rabbitmq: TcpProxy };
  s3: RestartableS3;
  /** Every proxy passing again and S3 running: the end of every fault. */
  heal(): Promise<void>;
  close(): Promise<void>;
}

/** An s3rver that can go away and come back on the same port with the same objects. */
export class RestartableS3 {
  private server: RunningS3rver | null = null;

  private constructor(
    readonly port: number,
    readonly directory: string,
  ) {}

  static async start(): Promise<RestartableS3> {
    const [port] = await freePorts(1);
    const s3 = new RestartableS3(port, mkdtempSync(path.join(os.tmpdir(), 'outpost-faults-s3-')));
    await s3.start();
    return s3;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.server !== null;
  }

  async start(): Promise<void> {
    if (!this.server) this.server = await startS3rver({ port: this.port, directory: this.directory });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    await server?.close();
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/** `logDir`: where the services' logs go (they outlive the world, for a failure's post-mortem). */
export async function createFaultWorld(logDir: string): Promise<FaultWorld> {
  const backing: TestServices = await getServices();
  const prefix = uniquePrefix('faults');
  const database: TestDatabase = await createTestDatabase(prefix);
  const through = (url: string) => {
    const u = new URL(url);
    return TcpProxy.start({ targetHost: u.hostname, targetPort: Number(u.port) });
  };
  const postgres = await through(database.url);
  const rabbitmq = await through(backing.amqpUrl);
  const s3 = await RestartableS3.start();
  const stack = await startStack({
    databaseUrl: postgres.rewrite(database.url),
    queuePrefix: prefix,
    bucketPrefix: prefix,
    logDir,
    env: {
      AMQP_URL: rabbitmq.rewrite(backing.amqpUrl),
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: 'S3RVER',
      S3_SECRET_KEY: 'S3RVER',
    },
  });
  const gatewayPort = Number(new URL(stack.gatewayUrl).port);
  const gateway = await TcpProxy.start({ targetHost: '127.0.0.1', targetPort: gatewayPort });
  const db = new Pool({ connectionString: database.url, max: 4 });
  const proxies = { gateway, postgres, rabbitmq };
  const heal = async () => {
    for (const p of Object.values(proxies)) await p.restore();
    await s3.start();
  };
  return {
    stack,
    laptopStack: { ...stack, gatewayUrl: gateway.rewrite(stack.gatewayUrl) },
    db,
    databaseUrl: database.url,
    proxies,
    s3,
    heal,
    async close() {
      await heal().catch(() => undefined);
      await stack.stop();
      await db.end();
      for (const p of Object.values(proxies)) await p.close();
      await s3.close();
      await database.drop();
      await backing.stop();
    },
  };
}
