/**
 * Services outlive their dependencies, and their readiness tells the truth: with a loopback TCP
 * proxy in front of Postgres, RabbitMQ and S3 (the machine's servers are shared, so they are never
 * restarted here), each dependency in turn is cut (every connection dropped, new ones refused),
 * readiness falls on exactly the services that use it while liveness holds and no process exits,
 * then the path is restored and readiness comes back. A laptop syncs both ways afterwards.
 */
import {
  createTestDatabase,
  freePorts,
  getServices,
  startStack,
  TcpProxy,
  uniquePrefix,
  waitFor,
} from '@outpost/test-support';
import type { Stack, TestDatabase, TestServices } from '@outpost/test-support';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { agentJson, adminJson } from './support/cli';
import { exec, syncUntil } from './support/laptops';

type Service = 'client-registry' | 'inbox-store' | 'applier' | 'router' | 'sync-gateway';
const SERVICES: Service[] = ['client-registry', 'inbox-store', 'applier', 'router', 'sync-gateway'];
/** Who needs what: the gateway reaches S3 only through the inbox-store. */
const USES: Record<'postgres' | 'rabbitmq' | 's3', Service[]> = {
  postgres: SERVICES,
  rabbitmq: SERVICES,
  s3: ['inbox-store', 'applier', 'router'],
};

describe('health through dependency outages', () => {
  let backing: TestServices;
  let database: TestDatabase;
  let stack: Stack;
  let healthUrl: Record<Service, string>;
  const proxies = {} as Record<'postgres' | 'rabbitmq' | 's3', TcpProxy>;

  beforeAll(async () => {
    backing = await getServices();
    const prefix = uniquePrefix('health');
    database = await createTestDatabase(prefix);
    const through = async (url: string) => {
      const u = new URL(url);
      return TcpProxy.start({ targetHost: u.hostname, targetPort: Number(u.port) });
    };
    proxies.postgres = await through(database.url);
    proxies.rabbitmq = await through(backing.amqpUrl);
    proxies.s3 = await through(backing.s3.endpoint);
    const [registryHealth, applierHealth, routerHealth] = await freePorts(3);
    stack = await startStack({
      databaseUrl: proxies.postgres.rewrite(database.url),
      queuePrefix: prefix,
      bucketPrefix: prefix,
      ports: { registryHealth, applierHealth, routerHealth },
      env: {
        AMQP_URL: proxies.rabbitmq.rewrite(backing.amqpUrl),
        S3_ENDPOINT: proxies.s3.rewrite(backing.s3.endpoint),
      },
    });
    healthUrl = {
      'client-registry': `http://127.0.0.1:${registryHealth}`,
      applier: `http://127.0.0.1:${applierHealth}`,
      router: `http://127.0.0.1:${routerHealth}`,
      'inbox-store': stack.inboxStoreUrl,
      'sync-gateway': stack.gatewayUrl,
    };
  });

  afterAll(async () => {
    for (const p of Object.values(proxies)) await p.restore().catch(() => undefined);
    await stack?.stop();
    for (const p of Object.values(proxies)) await p.close();
    await database?.drop();
    await backing?.stop();
  });

  async function probe(service: Service, path: string): Promise<{ status: number; body: string }> {
    try {
      const res = await fetch(`${healthUrl[service]}${path}`, { signal: AbortSignal.timeout(10_000) });
      return { status: res.status, body: await res.text() };
    } catch (err) {
      return { status: 0, body: String(err) };
    }
  }

  const readiness = async () =>
    Object.fromEntries(
      await Promise.all(SERVICES.map(async (s) => [s, (await probe(s, '/health/ready')).status] as const)),
    ) as Record<Service, number>;

  async function allReady(): Promise<void> {
    await waitFor(async () => Object.values(await readiness()).every((s) => s === 200), {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: 'every service ready',
    });
  }

  it.each(['rabbitmq', 'postgres', 's3'] as const)(
    'readiness falls while %s is cut and comes back, and no service exits',
    async (dependency) => {
      await allReady();
      const accepted = proxies[dependency].accepted;
      expect(accepted).toBeGreaterThan(0);
      await proxies[dependency].cut();
      const down = await waitFor(
        async () => {
          const now = await readiness();
          return USES[dependency].every((s) => now[s] === 503) ? now : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, description: `readiness to fall with ${dependency} cut` },
      );
      for (const s of SERVICES.filter((x) => !USES[dependency].includes(x))) expect(down[s]).toBe(200);
      const detail = await probe(USES[dependency][0], '/health/ready');
      expect(JSON.parse(detail.body)).toMatchObject({
        status: 'error',
        error: { [dependency]: { status: 'down' } },
      });
      for (const s of SERVICES) expect((await probe(s, '/health/live')).status).toBe(200);

      await proxies[dependency].restore();
      await allReady();
      for (const s of SERVICES) expect(stack.isRunning(s)).toBe(true);
    },
  );

  it('syncs both ways after the outages', async () => {
    const secret = (
      await adminJson<{ secret: string }>(['clients', 'add', 'hal-laptop', '--user', 'hal'], stack)
    ).secret;
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'outpost-health-')), 'hal');
    await agentJson([
      'init',
      '--dir',
      dir,
      '--server',
      stack.gatewayUrl,
      '--client',
      'hal-laptop',
      '--secret',
      secret,
    ]);
    await exec(dir, `INSERT INTO account (name, owner_login) VALUES ('Up after the outages', 'hal')`);
    const db = new Pool({ connectionString: database.url, max: 1 });
    try {
      await syncUntil(dir, 'SELECT name FROM account ORDER BY name', [{ name: 'Up after the outages' }]);
      await waitFor(
        async () =>
          (await db.query(`SELECT 1 FROM account WHERE name = 'Up after the outages'`)).rowCount === 1,
        { timeoutMs: 30_000, description: "hal's change applied on the server" },
      );
      await db.query(
        `INSERT INTO account (id, name, owner_login) VALUES (gen_random_uuid(), 'Down after the outages', 'hal')`,
      );
      await syncUntil(dir, 'SELECT name FROM account ORDER BY name', [
        { name: 'Down after the outages' },
        { name: 'Up after the outages' },
      ]);
    } finally {
      await db.end();
    }
    for (const s of SERVICES) expect(stack.isRunning(s)).toBe(true);
  });
});
