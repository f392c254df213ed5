/**
 * A schema change reaches laptops on their next sync (docs/schema-changes.md walks this test).
 * The stack starts on sales v1; laptops hold unsent changes; the server is upgraded to v2 (a
 * `probability` column on opportunity, an `activity` table with visibility rules) by restarting
 * its services with SCHEMA=sales@2; each laptop syncs once: its pending changes apply, it gets the
 * new column and the activities it may see, and the new column round-trips both ways. Then the
 * server goes to v3 and a laptop still on v1 upgrades through both versions in one sync.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import {
  createTestDatabase,
  freePorts,
  startStack,
  uniquePrefix,
  waitFor,
  type Stack,
  type TestDatabase,
} from '@outpost/test-support';
import { adminJson, agentJson } from './support/cli';
import { exec, query, sync, syncUntil, type Rows } from './support/laptops';
import { DxReader } from '@outpost/dx-format';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listKeys, s3Client } from './support/s3';

interface Status {
  schema: { name: string; version: number };
  pendingTransactions: number;
  outboxFiles: number;
}

describe('upgrading the synced schema with laptops in the field', () => {
  const prefix = uniquePrefix('upgrade');
  const adminToken = `upgrade-${randomUUID()}`;
  let database: TestDatabase;
  let db: Pool;
  let stack: Stack;
  let ports: { gateway: number; admin: number };
  let tmp: string;

  /** The same database, queues, buckets and ports under another schema version: a server upgrade. */
  const runServer = async (schema: string) => {
    await stack?.stop();
    stack = await startStack({
      databaseUrl: database.url,
      queuePrefix: prefix,
      bucketPrefix: prefix,
      adminToken,
      ports,
      env: { SCHEMA: schema, ROUTER_POLL_MS: '100' },
    });
  };

  const laptop = async (name: string, user: string): Promise<string> => {
    const { secret } = await adminJson<{ secret: string }>(['clients', 'add', name, '--user', user], stack);
    const dir = path.join(tmp, name);
    await agentJson([
      'init',
      '--dir',
      dir,
      '--server',
      stack.gatewayUrl,
      '--client',
      name,
      '--secret',
      secret,
    ]);
    return dir;
  };
  const status = (dir: string) => agentJson<Status>(['status', '--dir', dir]);
  const serverRows = async (sql: string, params: unknown[] = []): Promise<Rows> =>
    (await db.query(sql, params)).rows as Rows;

  beforeAll(async () => {
    database = await createTestDatabase(prefix);
    db = new Pool({ connectionString: database.url, max: 2 });
    const [gateway, admin] = await freePorts(2);
    ports = { gateway, admin };
    tmp = mkdtempSync(path.join(os.tmpdir(), 'outpost-upgrade-'));
    await runServer('sales@1');
  });
  afterAll(async () => {
    await stack?.stop();
    await db?.end();
    await database?.drop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('laptops holding unsent changes upgrade on their next sync, and a laptop two versions behind in one', async () => {
    const [acme, fleet, globex, bigDeal] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    // A laptop set up by this (newer) agent against the v1 server starts on v1.
    const alice = await laptop('alice-laptop', 'alice');
    const bob = await laptop('bob-laptop', 'bob');
    const carol = await laptop('carol-laptop', 'carol');
    expect((await status(alice)).schema).toEqual({ name: 'sales', version: 1 });
    await expect(query(alice, 'SELECT count(*) AS n FROM activity')).rejects.toThrow(
      /no such table: activity/,
    );

    // v1 data: alice's opportunity with bob on its team; carol's own opportunity.
    await exec(alice, `INSERT INTO account (id, name, owner_login) VALUES ('${acme}', 'Acme', 'alice')`);
    await exec(
      alice,
      `INSERT INTO opportunity (id, account_id, name, stage, owner_login) VALUES ('${fleet}', '${acme}', 'Fleet renewal', 'Qualification', 'alice')`,
    );
    await exec(alice, `INSERT INTO opportunity_team (opportunity_id, user_login) VALUES ('${fleet}', 'bob')`);
    await exec(carol, `INSERT INTO account (id, name, owner_login) VALUES ('${globex}', 'Globex', 'carol')`);
    await exec(
      carol,
      `INSERT INTO opportunity (id, account_id, name, stage, owner_login) VALUES ('${bigDeal}', '${globex}', 'Big deal', 'Proposal', 'carol')`,
    );
    await sync(alice);
    await sync(carol);
    await syncUntil(bob, 'SELECT name FROM opportunity', [{ name: 'Fleet renewal' }]);

    // Offline under v1: changes that will still be unsent when the server is upgraded.
    const tender = randomUUID();
    await exec(alice, `UPDATE opportunity SET stage = 'Negotiation' WHERE id = '${fleet}'`);
    await exec(
      alice,
      `INSERT INTO opportunity (id, account_id, name, stage, owner_login) VALUES ('${tender}', '${acme}', 'Tender', 'Qualification', 'alice')`,
    );
    await exec(bob, `UPDATE opportunity SET amount = '120000.00' WHERE id = '${fleet}'`);
    await exec(carol, `INSERT INTO contact (account_id, last_name) VALUES ('${globex}', 'Jones')`);
    expect((await status(alice)).pendingTransactions).toBe(2);

    // The server is upgraded to v2: services restarted with the new version, migrations applied.
    await runServer('sales@2');
    expect(await serverRows('SELECT name, version FROM sync_schema_version')).toEqual([
      { name: 'sales', version: 2 },
    ]);
    // Existing rows took the new column's default in the migration.
    expect(
      await serverRows('SELECT probability::int AS probability FROM opportunity WHERE id = $1', [fleet]),
    ).toEqual([{ probability: 10 }]);
    // Activities written at the office: one on alice's opportunity, one on an opportunity of dave's.
    const daveAccount = randomUUID();
    const daveOpp = randomUUID();
    await db.query(`INSERT INTO account (id, name, owner_login) VALUES ($1, 'Initech', 'dave')`, [
      daveAccount,
    ]);
    await db.query(
      `INSERT INTO opportunity (id, account_id, name, stage, owner_login) VALUES ($1, $2, 'Dave''s deal', 'Proposal', 'dave')`,
      [daveOpp, daveAccount],
    );
    await db.query(
      `INSERT INTO activity (id, opportunity_id, subject, owner_login) VALUES (gen_random_uuid(), $1, 'Call the buyer', 'alice'), (gen_random_uuid(), $2, 'Lunch', 'dave')`,
      [fleet, daveOpp],
    );

    // Alice syncs once: her store upgrades, her v1 changes apply (the new opportunity takes the default).
    const first = await sync<{ schemaUpgrade?: { from: number; to: number } }>(alice);
    expect(first.schemaUpgrade).toEqual({ from: 1, to: 2 });
    expect((await status(alice)).schema.version).toBe(2);
    await waitFor(
      async () =>
        JSON.stringify(
          await serverRows(
            'SELECT name, stage, probability::int AS probability FROM opportunity WHERE owner_login = $1 ORDER BY name',
            ['alice'],
          ),
        ) ===
        JSON.stringify([
          { name: 'Fleet renewal', stage: 'Negotiation', probability: 10 },
          { name: 'Tender', stage: 'Qualification', probability: 10 },
        ]),
      { timeoutMs: 30_000, description: "alice's v1 changes applied under v2" },
    );
    const inbox = await serverRows(
      `SELECT status FROM sync_inbox_file WHERE client = 'alice-laptop' ORDER BY file_seq DESC LIMIT 1`,
    );
    expect(inbox).toEqual([{ status: 'applied' }]);
    // The file of her offline changes carried the version it was written under.
    const s3 = s3Client();
    const archived = await listKeys(s3, `${prefix}-inbox`, 'archive/alice-laptop/');
    const offline = DxReader.open(await s3.getObject(`${prefix}-inbox`, archived[archived.length - 1]));
    expect((await offline.header()).schemaVersion).toBe(1);
    await offline.close();

    // She gets the new column and the activities she may see (not dave's).
    await syncUntil(alice, 'SELECT subject FROM activity', [{ subject: 'Call the buyer' }]);
    expect(await query(alice, 'SELECT name, probability FROM opportunity ORDER BY name')).toEqual([
      { name: 'Fleet renewal', probability: 10 },
      { name: 'Tender', probability: 10 },
    ]);

    // Bob (on the team) upgrades too; his pending v1 change applies and he sees the activity.
    await syncUntil(bob, 'SELECT subject FROM activity', [{ subject: 'Call the buyer' }]);
    expect((await status(bob)).schema.version).toBe(2);
    await waitFor(
      async () =>
        (await serverRows('SELECT amount FROM opportunity WHERE id = $1', [fleet]))[0]?.amount ===
        '120000.00',
      { timeoutMs: 30_000, description: "bob's v1 change applied" },
    );

    // The new column round-trips: laptop -> server -> other laptop, and server -> laptops.
    await exec(alice, `UPDATE opportunity SET probability = 60 WHERE id = '${fleet}'`);
    await sync(alice);
    await syncUntil(bob, `SELECT probability FROM opportunity WHERE id = '${fleet}'`, [{ probability: 60 }]);
    expect(
      await serverRows('SELECT probability::int AS probability FROM opportunity WHERE id = $1', [fleet]),
    ).toEqual([{ probability: 60 }]);
    await db.query('UPDATE opportunity SET probability = 80 WHERE id = $1', [fleet]);
    await syncUntil(alice, `SELECT probability FROM opportunity WHERE id = '${fleet}'`, [
      { probability: 80 },
    ]);
    await exec(alice, `UPDATE activity SET done = 1 WHERE subject = 'Call the buyer'`);
    await sync(alice);
    await syncUntil(bob, 'SELECT subject, done FROM activity', [{ subject: 'Call the buyer', done: 1 }]);

    // Carol never synced under v2. The server goes to v3; she upgrades from v1 in one sync.
    await db.query(
      `INSERT INTO activity (id, opportunity_id, subject, owner_login) VALUES (gen_random_uuid(), $1, 'Site visit', 'carol')`,
      [bigDeal],
    );
    await runServer('sales@3');
    expect((await status(carol)).schema.version).toBe(1);
    const carolSync = await sync<{ schemaUpgrade?: { from: number; to: number } }>(carol);
    expect(carolSync.schemaUpgrade).toEqual({ from: 1, to: 3 });
    await waitFor(
      async () =>
        (await serverRows('SELECT last_name, phone FROM contact WHERE account_id = $1', [globex])).length ===
        1,
      { timeoutMs: 30_000, description: "carol's v1 contact applied under v3" },
    );
    await syncUntil(carol, 'SELECT subject FROM activity', [{ subject: 'Site visit' }]);
    expect(await query(carol, 'SELECT last_name, phone FROM contact')).toEqual([
      { last_name: 'Jones', phone: null },
    ]);
    expect(await query(carol, 'SELECT name, probability FROM opportunity')).toEqual([
      { name: 'Big deal', probability: 10 },
    ]);
    const carolStatus = await status(carol);
    expect(carolStatus).toMatchObject({ schema: { version: 3 }, pendingTransactions: 0 });
  });
});
