import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { CaptureStatusView } from '@outpost/contracts';
import { captureBarrier } from '@outpost/server-db';
import { metricSample, startStack, waitFor, type Stack } from '@outpost/test-support';
import { adminJson } from './support/cli';

jest.setTimeout(240_000);

/**
 * The router's change capture against a real stack: restarts at any point lose and repeat
 * nothing, a router on standby takes over, a lost slot re-extracts everyone, and the administrator
 * sees the slot's lag.
 */
describe('change capture', () => {
  let stack: Stack;
  let db: Pool;

  beforeAll(async () => {
    // Small batches (by rows and by bytes), so large transactions are written in parts and kills
    // land between parts.
    stack = await startStack({
      env: { CAPTURE_BATCH_ROWS: '50', CAPTURE_BATCH_BYTES: String(64 * 1024), ROUTER_POLL_MS: '100' },
    });
    db = new Pool({ connectionString: stack.databaseUrl, max: 4 });
    db.on('error', () => undefined);
  });
  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  const captured = async () => expect(await captureBarrier(db, { timeoutMs: 60_000 })).toBe(true);

  it("reads a burst of the applier's messages whole: each row logged with its own origin, no restart", async () => {
    // 3,000 transactions, each as the applier writes one: its origin message, then its row, written
    // while the router is down. When it comes back the WAL sender sends them as fast as it can, in
    // full socket reads, and messages wait in the capture's queue while the connection reads on.
    await stack.kill('router');
    const tag = randomUUID().slice(0, 8);
    await db.query(
      `DO $$ BEGIN
         FOR i IN 1..3000 LOOP
           PERFORM pg_logical_emit_message(true, 'outpost',
             json_build_object('kind', 'origin', 'client', 'burst-' || (i % 7), 'user', 'u' || (i % 7))::text);
           INSERT INTO account (id, name) VALUES (gen_random_uuid(), '${tag} ' || i || ' burst-' || (i % 7));
           COMMIT;
         END LOOP;
       END $$`,
    );
    await stack.startService('router');
    await captured();
    const logged = await db.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE split_part(a.name, ' ', 3) IS DISTINCT FROM l.origin_client)::int AS wrong
         FROM sync_txn_log l JOIN account a ON a.id = l.row_id
        WHERE l.table_name = 'account' AND a.name LIKE '${tag} %'`,
    );
    expect(logged.rows[0]).toEqual({ n: 3000, wrong: 0 });
    expect(await restarts(stack)).toBe(0);
  });

  it('loses and repeats nothing when the router is killed while it captures', async () => {
    const small: string[] = [];
    const large: string[] = [];
    // The writes go on until the last kill: each kill waits for the log to grow, which it can
    // only do while something is still being written.
    let killing = true;
    const writing = (async () => {
      for (let i = 0; i < 150 || killing; i += 1) {
        if (i >= 150) await new Promise((resolve) => setTimeout(resolve, 20));
        const client = await db.connect();
        try {
          await client.query('BEGIN');
          if (i % 30 === 0) {
            const ids = Array.from({ length: 120 }, () => randomUUID());
            await client.query(
              `INSERT INTO account (id, name) SELECT id, 'large ' || id FROM unnest($1::uuid[]) AS id`,
              [ids],
            );
            large.push(...ids);
          } else {
            const id = randomUUID();
            await client.query(`INSERT INTO account (id, name) VALUES ($1, $2)`, [id, `small ${id}`]);
            await client.query(`UPDATE account SET owner_login = 'someone' WHERE id = $1`, [id]);
            small.push(id);
          }
          await client.query('COMMIT');
        } finally {
          client.release();
        }
      }
    })();
    for (let kill = 0; kill < 3; kill += 1) {
      const before = await logCount(db);
      await waitFor(async () => (await logCount(db)) > before, {
        timeoutMs: 60_000,
        description: `the log to grow before kill ${kill + 1}`,
      });
      await stack.kill('router');
      await stack.startService('router');
    }
    killing = false;
    await writing;
    await captured();

    const rows = (
      await db.query(
        `SELECT row_id::text AS id, op, seq::int AS seq FROM sync_txn_log WHERE table_name = 'account'
          AND row_id = ANY($1::uuid[]) ORDER BY seq`,
        [[...small, ...large]],
      )
    ).rows as Array<{ id: string; op: string; seq: number }>;
    const byId = new Map<string, Array<{ op: string; seq: number }>>();
    for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
    expect(byId.size).toBe(small.length + large.length);
    for (const id of large) expect(byId.get(id)?.map((r) => r.op)).toEqual(['insert']);
    for (const id of small) {
      const entries = byId.get(id) ?? [];
      expect(entries.map((r) => r.op)).toEqual(['insert', 'update']);
      // One transaction's rows are one run of seqs: the capture writes transactions whole, in order.
      expect(entries[1].seq).toBe(entries[0].seq + 1);
    }
  });

  it('has a router on standby take over capture and routing when the leader dies', async () => {
    // A second router of the same stack (same database, queues and buckets), healthy on standby.
    const standby = await stack.startReplica('router');
    try {
      await stack.kill('router');
      const id = randomUUID();
      await db.query(
        `INSERT INTO account (id, name, owner_login) VALUES ($1, 'after the leader died', 'zoe')`,
        [id],
      );
      await captured();
      // The leader is gone: only the standby can have captured it.
      const logged = await db.query(`SELECT op FROM sync_txn_log WHERE row_id = $1`, [id]);
      expect(logged.rows).toEqual([{ op: 'insert' }]);
      // Routing moved too: a new client of zoe is extracted by the standby, with the row.
      await addClient(db, 'zoe-laptop', 'zoe');
      await waitFor(async () => (await routeEpoch(db, 'zoe-laptop')) === 1, {
        timeoutMs: 60_000,
        description: 'zoe-laptop extracted by the new leader',
      });
    } finally {
      await standby.stop();
      await stack.startService('router');
    }
  });

  it('recreates a missing slot and re-extracts every client, whose later changes then arrive', async () => {
    await addClient(db, 'yan-laptop', 'yan');
    await waitFor(async () => (await routeEpoch(db, 'yan-laptop')) === 1, { timeoutMs: 60_000 });
    await stack.stopService('router');
    const slot = (await db.query(`SELECT slot_name FROM sync_capture_position`)).rows[0].slot_name as string;
    await db.query(`SELECT pg_drop_replication_slot($1)`, [slot]);
    // Written while no slot exists: the stream will never carry it, only a new extract can.
    const missed = randomUUID();
    await db.query(`INSERT INTO account (id, name, owner_login) VALUES ($1, 'missed', 'yan')`, [missed]);
    await stack.startService('router');

    await waitFor(async () => (await routeEpoch(db, 'yan-laptop')) === 2, {
      timeoutMs: 60_000,
      description: 'yan-laptop re-extracted after the slot was recreated',
    });
    const slots = await db.query(`SELECT active FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
    expect(slots.rowCount).toBe(1);
    const held = await db.query(
      `SELECT 1 FROM sync_route_holding WHERE client = 'yan-laptop' AND row_id = $1`,
      [missed],
    );
    expect(held.rowCount).toBe(1);
    const after = randomUUID();
    await db.query(`INSERT INTO account (id, name, owner_login) VALUES ($1, 'after', 'yan')`, [after]);
    await captured();
    expect((await db.query(`SELECT 1 FROM sync_txn_log WHERE row_id = $1`, [after])).rowCount).toBe(1);
  });

  it('ends its replication stream when Postgres terminates its connections, then resumes', async () => {
    // What a fast shutdown does first. A WAL sender whose client stays connected would hold the
    // shutdown up; the capture ends its stream instead and comes back on a new one.
    await captured();
    const slotPid = async (): Promise<number | null> =>
      ((
        await db.query(
          `SELECT active_pid FROM pg_replication_slots WHERE database = current_database() AND slot_name LIKE 'outpost_capture_%'`,
        )
      ).rows[0]?.active_pid as number | null | undefined) ?? null;
    const before = await slotPid();
    expect(before).not.toBeNull();
    const ended = await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'outpost-router'`,
    );
    expect(ended.rowCount).toBeGreaterThan(0);
    await waitFor(async () => !(await processAlive(db, before as number)), {
      timeoutMs: 30_000,
      description: 'the WAL sender of the old stream gone',
    });
    await waitFor(async () => ((await slotPid()) ?? before) !== before, {
      timeoutMs: 60_000,
      description: 'the capture reading the slot again on a new stream',
    });
    const id = randomUUID();
    await db.query(
      `INSERT INTO account (id, name, owner_login) VALUES ($1, 'after the stream ended', 'zoe')`,
      [id],
    );
    await captured();
    expect((await db.query(`SELECT op FROM sync_txn_log WHERE row_id = $1`, [id])).rows).toEqual([
      { op: 'insert' },
    ]);
  });

  it('writes a transaction of large deleted rows in parts bounded by bytes, each row once', async () => {
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const name = 'x'.repeat(20_000);
    await db.query(`INSERT INTO account (id, name) SELECT id, $2 || id FROM unnest($1::uuid[]) AS id`, [
      ids,
      name,
    ]);
    await captured();
    // One transaction: 20 old rows of 20 kB are kept for eviction. Far below CAPTURE_BATCH_ROWS,
    // so only CAPTURE_BATCH_BYTES (64 KiB here) can split it.
    await db.query(`DELETE FROM account WHERE id = ANY($1::uuid[])`, [ids]);
    await captured();
    // Each batch is one transaction of the capture: its rows share an xmin.
    const logged = await db.query<{ n: number; batches: number; shortest: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT xmin::text)::int AS batches,
              min(length(old_row->>'name'))::int AS shortest
         FROM sync_txn_log WHERE op = 'delete' AND row_id = ANY($1::uuid[])`,
      [ids],
    );
    expect(logged.rows[0].n).toBe(20);
    expect(logged.rows[0].batches).toBeGreaterThanOrEqual(5);
    expect(logged.rows[0].shortest).toBe(name.length + 36);
  });

  it('shows the administrator the slot and its lag', async () => {
    await captured();
    const status = await adminJson<CaptureStatusView>(['capture'], stack);
    expect(status).toMatchObject({ slotExists: true, walStatus: expect.any(String) });
    expect(status.slotName).toMatch(/^outpost_capture_/);
    expect(typeof status.lagBytes).toBe('number');
    expect(typeof status.lagSeconds).toBe('number');
    await waitFor(async () => (await adminJson<CaptureStatusView>(['capture'], stack)).active, {
      timeoutMs: 30_000,
      description: 'the slot read by the router',
    });
  });
});

/** The router's count of capture restarts (outpost_capture_restarts_total). */
async function restarts(stack: Stack): Promise<number> {
  const metrics = await (await fetch(stack.endpoints.router.metrics)).text();
  return metricSample(metrics, 'outpost_capture_restarts_total') ?? NaN;
}

async function logCount(db: Pool): Promise<number> {
  return Number((await db.query(`SELECT count(*) AS n FROM sync_txn_log`)).rows[0].n);
}

async function addClient(db: Pool, name: string, login: string): Promise<void> {
  await db.query(
    `INSERT INTO sync_client (name, user_login, status, secret_hash) VALUES ($1, $2, 'active', 'x')`,
    [name, login],
  );
}

async function routeEpoch(db: Pool, client: string): Promise<number> {
  const r = await db.query(`SELECT epoch FROM sync_route_state WHERE client = $1`, [client]);
  return (r.rows[0]?.epoch as number | undefined) ?? 0;
}

async function processAlive(db: Pool, pid: number): Promise<boolean> {
  return (await db.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [pid])).rowCount === 1;
}
