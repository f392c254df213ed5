/**
 * The seed scenario, step by step: a telesales user changes, offline, an opportunity that another
 * user created and uploaded earlier and that the telesales user downloaded in an earlier sync; the
 * change reaches the server database on the next synchronization.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import amqp from 'amqplib';
import { waitFor } from '@outpost/test-support';
import { agent, agentJson, adminJson } from './support/cli';
import { exec, sync } from './support/laptops';
import { createWorld, type World } from './support/world';
import { listKeys } from './support/s3';

interface SyncSummary {
  uploaded: { files: number; txns: number };
  downloaded: { files: number; txns: number };
}
interface Status {
  pendingTransactions: number;
  outboxFiles: number;
  lastSync: { ok: boolean } | null;
}

const ACCOUNT_ID = '4d0f6a3e-2b1c-4f5e-9a7b-1c2d3e4f5a6b';
const OPPORTUNITY_ID = '9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const TEAM_ID = '0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d';

describe('seed scenario: an offline change to an opportunity reaches the server database', () => {
  let world: World;
  let alice: string; // the user who created the opportunity earlier
  let bob: string; // the telesales user

  beforeAll(async () => {
    world = await createWorld();
    alice = await world.laptop('alice-laptop', 'alice');

    // Earlier: another user created the opportunity (with the telesales user on its team) and uploaded it.
    await exec(
      alice,
      `INSERT INTO account (id, name, owner_login) VALUES ('${ACCOUNT_ID}', 'Northwind Traders', 'alice')`,
    );
    await exec(
      alice,
      `INSERT INTO opportunity (id, account_id, name, stage, amount, close_date, owner_login)
       VALUES ('${OPPORTUNITY_ID}', '${ACCOUNT_ID}', 'Northwind fleet renewal', 'Prospecting', '120000.00', '2027-03-31', 'alice')`,
    );
    await exec(
      alice,
      `INSERT INTO opportunity_team (id, opportunity_id, user_login) VALUES ('${TEAM_ID}', '${OPPORTUNITY_ID}', 'bob')`,
    );
    await sync(alice);
    await world.applied('alice-laptop', 1);

    // Later: the telesales user downloaded it during a subsequent synchronization (the initial extract).
    bob = await world.laptop('bob-laptop', 'bob');
    const local = await agentJson<Array<{ stage: string }>>([
      'query',
      '--dir',
      bob,
      `SELECT stage FROM opportunity WHERE id = '${OPPORTUNITY_ID}'`,
    ]);
    expect(local).toEqual([{ stage: 'Prospecting' }]);
  });

  afterAll(async () => {
    await world?.close();
  });

  it('walks steps 1 to 12', async () => {
    // 1-2. Offline, the user modifies the opportunity; it is saved in the local opportunity table.
    await exec(
      bob,
      `UPDATE opportunity SET stage = 'Negotiation', amount = '135000.50' WHERE id = '${OPPORTUNITY_ID}'`,
    );
    const row = await agentJson<Array<{ stage: string; amount: string }>>([
      'query',
      '--dir',
      bob,
      `SELECT stage, amount FROM opportunity WHERE id = '${OPPORTUNITY_ID}'`,
    ]);
    expect(row).toEqual([{ stage: 'Negotiation', amount: '135000.50' }]);

    // 3. A transaction record is saved in the local transaction log, with old and new values.
    const log = await agentJson<
      Array<{ op: string; table_name: string; row_id: string; changes_json: string }>
    >([
      'query',
      '--dir',
      bob,
      'SELECT op, table_name, row_id, changes_json FROM _outpost_log WHERE file_seq IS NULL ORDER BY seq',
    ]);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ op: 'update', table_name: 'opportunity', row_id: OPPORTUNITY_ID });
    expect(JSON.parse(log[0]!.changes_json)).toEqual({
      stage: { old: 'Prospecting', new: 'Negotiation' },
      amount: { old: '120000.00', new: '135000.50' },
    });

    // 4. Pending transactions are extracted to a DX file in the outbox folder.
    await agentJson(['extract', '--dir', bob]);
    const outbox = readdirSync(path.join(bob, 'outbox')).filter((f) => f.endsWith('.dx'));
    expect(outbox).toHaveLength(1);
    const inspect = await agent(['dx', 'inspect', path.join(bob, 'outbox', outbox[0]!), '--json']);
    expect(inspect.code).toBe(0);
    const [header, tx] = inspect.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(header).toMatchObject({ client: 'bob-laptop', direction: 'upload', fileSeq: 1, count: 1 });
    expect(tx).toMatchObject({
      op: 'update',
      table: 'opportunity',
      id: OPPORTUNITY_ID,
      user: 'bob',
      changes: {
        stage: { old: 'Prospecting', new: 'Negotiation' },
        amount: { old: { $dec: '120000.00' }, new: { $dec: '135000.50' } },
      },
    });
    expect(typeof tx.base).toBe('number');

    // Hold the applier back so the queued message can be observed before step 12 consumes it.
    await world.stack.stopService('applier');

    // 5-8. The user starts a synchronization; the agent connects and the server starts a session.
    const summary = await agentJson<SyncSummary>(['sync', '--dir', bob]);
    expect(summary.uploaded.files).toBe(1);
    expect(summary.uploaded.txns).toBe(1);

    // 9. The client name was validated against the registry: the session is on record for bob-laptop.
    const clients = await adminJson<Array<{ name: string; lastSyncAt: string | null }>>(
      ['clients', 'list'],
      world.stack,
    );
    const registered = clients.find((c) => c.name === 'bob-laptop');
    expect(registered).toBeDefined();
    expect(registered?.lastSyncAt).toEqual(expect.any(String));

    // 10. The outbox file is now in the user's inbox on the server (object storage) and queued.
    const inboxKeys = await listKeys(world.s3, world.inboxBucket, 'inbox/bob-laptop/');
    expect(inboxKeys).toEqual(['inbox/bob-laptop/000000000001.dx']);
    const inbox = await adminJson<Array<{ fileSeq: number; status: string }>>(
      ['inbox', 'bob-laptop'],
      world.stack,
    );
    expect(inbox).toEqual([expect.objectContaining({ fileSeq: 1, status: 'received' })]);
    const queued = await queuedMessages(`${world.prefix}.dx.inbox`);
    expect(queued).toBeGreaterThanOrEqual(1);

    // 11. The session is closed and the acknowledged file left the laptop's outbox.
    expect(readdirSync(path.join(bob, 'outbox')).filter((f) => f.endsWith('.dx'))).toEqual([]);
    const status = await agentJson<Status>(['status', '--dir', bob]);
    expect(status).toMatchObject({
      pendingTransactions: 0,
      outboxFiles: 0,
      lastSync: expect.objectContaining({ ok: true }),
    });

    // 12. The modified opportunity is written to the opportunity table on the server.
    await world.stack.startService('applier');
    const server = await waitFor(
      async () => {
        const r = await world.db.query(
          'SELECT stage, amount::text AS amount, row_version FROM opportunity WHERE id = $1',
          [OPPORTUNITY_ID],
        );
        return r.rows[0]?.stage === 'Negotiation' ? r.rows[0] : undefined;
      },
      { timeoutMs: 30_000, description: "bob's change applied to the server's opportunity" },
    );
    expect(server).toMatchObject({ stage: 'Negotiation', amount: '135000.50' });
    expect(Number(server.row_version)).toBeGreaterThan(1);
    const applied = await adminJson<Array<{ fileSeq: number; status: string }>>(
      ['inbox', 'bob-laptop'],
      world.stack,
    );
    expect(applied).toEqual([expect.objectContaining({ fileSeq: 1, status: 'applied' })]);
  });

  it('step 9: refuses a client that is not registered, and stores nothing', async () => {
    const dir = world.laptopDir('mallory');
    await agentJson([
      'init',
      '--dir',
      dir,
      '--server',
      world.stack.gatewayUrl,
      '--client',
      'mallory-laptop',
      '--secret',
      'guess',
      '--no-extract',
    ]);
    await exec(dir, `INSERT INTO account (name, owner_login) VALUES ('Intruder Ltd', 'mallory')`);
    const result = await agent(['sync', '--dir', dir]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/CLIENT_AUTH_FAILED/);
    expect(result.stderr).toMatch(/mallory-laptop/);
    const rows = await world.db.query(
      "SELECT count(*)::int AS n FROM sync_inbox_file WHERE client = 'mallory-laptop'",
    );
    expect(rows.rows[0].n).toBe(0);
    expect(await listKeys(world.s3, world.inboxBucket, 'inbox/mallory-laptop/')).toEqual([]);
    expect(readdirSync(path.join(dir, 'outbox')).filter((f) => f.endsWith('.dx'))).toHaveLength(1);
  });
});

async function queuedMessages(queue: string): Promise<number> {
  const connection = await amqp.connect(process.env.AMQP_URL!);
  try {
    const channel = await connection.createChannel();
    const info = await channel.checkQueue(queue);
    return info.messageCount;
  } finally {
    await connection.close();
  }
}
