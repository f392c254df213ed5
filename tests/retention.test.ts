/**
 * Retention with retention times of seconds (RETENTION_*_DAYS are fractions of a day here):
 * - log entries every routed client has passed go, entries a lagging client still needs stay;
 * - old conflict, refusal and failed-sign-in records go; done inbox files and delivered outbound
 *   files lose their objects and rows, except each client's newest file;
 * - a laptop that has not downloaded for longer than the log retention is re-extracted: its queue
 *   of files is dropped, and when it syncs again its unsent change reaches the server and it
 *   holds exactly what its user may see.
 */
import { salesSchema } from '@outpost/schema';
import { captureBarrier } from '@outpost/server-db';
import { waitFor } from '@outpost/test-support';
import { adminJson } from './support/cli';
import { exec, query, sync } from './support/laptops';
import { checkAgainstOracle } from './support/oracle';
import { createWorld, type World } from './support/world';
import { Readable } from 'node:stream';
import { partKey, partsPrefix } from '@outpost/storage';
import { listKeys, stackObjectStore } from './support/s3';

const RETENTION_SECONDS = 4;
const days = (seconds: number) => (seconds / 86_400).toFixed(9);

describe('retention', () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld({
      env: {
        RETENTION_LOG_DAYS: days(RETENTION_SECONDS),
        RETENTION_RECORDS_DAYS: days(RETENTION_SECONDS),
        RETENTION_FILES_DAYS: days(RETENTION_SECONDS),
        RETENTION_PARTS_DAYS: days(RETENTION_SECONDS),
        RETENTION_INTERVAL_SECONDS: '1',
        RETENTION_BATCH_ROWS: '2',
      },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  const one = async <T>(sql: string, params: unknown[] = []): Promise<T> =>
    (await world.db.query(sql, params)).rows[0] as T;
  const logSeqs = async (): Promise<number[]> =>
    (await world.db.query<{ seq: string }>('SELECT seq FROM sync_txn_log ORDER BY seq')).rows.map((r) =>
      Number(r.seq),
    );

  it('prunes what every client passed and old records and files, and keeps what a lagging client needs', async () => {
    const ana = await world.laptop('ana-laptop', 'ana');
    await exec(ana, `INSERT INTO account (name, owner_login) VALUES ('Acme', 'ana')`);
    await sync(ana);
    await world.applied('ana-laptop', 1);
    await captureBarrier(world.db);

    // The lagger is extracted after ana's first change, then its routing is held back (as after
    // repeated failures): its position stays where its extract put it.
    const lagger = await world.laptop('lag-laptop', 'lou');
    const unacked = await one<{ n: number }>(
      `SELECT count(*)::int AS n FROM sync_outbound_file WHERE client = 'lag-laptop' AND acked_at IS NULL`,
    );
    expect(unacked.n).toBe(0);
    const { from_seq: held } = await one<{ from_seq: string }>(
      `UPDATE sync_route_state SET failures = 1, retry_at = now() + interval '1 hour' WHERE client = 'lag-laptop'
       RETURNING from_seq`,
    );
    const position = Number(held);
    expect(position).toBeGreaterThan(0);
    expect(lagger).toBeTruthy();

    await exec(ana, `INSERT INTO account (name, owner_login) VALUES ('Beta', 'ana')`);
    await sync(ana);
    await world.applied('ana-laptop', 2);
    await captureBarrier(world.db);
    const needed = (await logSeqs()).filter((s) => s > position);
    expect(needed.length).toBeGreaterThan(0);

    // Records older than the retention.
    await world.db.query(
      `INSERT INTO sync_conflict (at, kind, table_name, row_id, client_origin, client_at, policy, winner, client_file_seq)
       VALUES (now() - interval '1 day', 'update-update', 'account', gen_random_uuid(), 'ana-laptop', now(), 'server-wins', 'server', 1)`,
    );
    await world.db.query(
      `INSERT INTO sync_refusal (at, client, user_login, file_seq, txn_seq, table_name, row_id, op, code, reason)
       VALUES (now() - interval '1 day', 'ana-laptop', 'ana', 1, 1, 'account', 'x', 'insert', 'NOT_YOURS', 'test')`,
    );
    for (let i = 0; i < 5; i++)
      await world.db.query(
        `INSERT INTO sync_auth_audit (at, client_name, source_address, outcome, code)
         VALUES (now() - interval '1 day', 'nobody', '127.0.0.1', 'failed', 'CLIENT_AUTH_FAILED')`,
      );
    // The lagger's files, all received a day ago: one quarantined and one received (waiting for
    // the administrator and the applier) are never pruned, however old; only the newest is kept
    // whatever its status.
    for (const [fileSeq, status] of [
      [1, 'quarantined'],
      [2, 'received'],
      [3, 'quarantined'],
    ] as const)
      await world.db.query(
        `INSERT INTO sync_inbox_file (client, file_seq, object_key, sha256, size, txn_count, first_seq, last_seq, status, received_at)
         VALUES ('lag-laptop', $1, $2, repeat('0', 64), 1, 1, $1, $1, $3, now() - interval '1 day')`,
        [fileSeq, `quarantine/lag-laptop/${String(fileSeq).padStart(12, '0')}.dx`, status],
      );
    // A witness younger than the entries the lagger needs: a pass that removes it ran when those
    // entries were past the retention too (each pass prunes the log before the records).
    await world.db.query(
      `INSERT INTO sync_auth_audit (client_name, source_address, outcome, code)
       VALUES ('witness', '127.0.0.1', 'failed', 'CLIENT_AUTH_FAILED')`,
    );

    await waitFor(
      async () => {
        const seqs = await logSeqs();
        const records = await one<{ n: number }>(
          `SELECT (SELECT count(*) FROM sync_conflict) + (SELECT count(*) FROM sync_refusal)
                + (SELECT count(*) FROM sync_auth_audit) AS n`,
        );
        const inbox = await one<{ n: number }>(
          `SELECT count(*)::int AS n FROM sync_inbox_file WHERE client = 'ana-laptop' AND file_seq = 1`,
        );
        return seqs.every((s) => s > position) && Number(records.n) === 0 && inbox.n === 0 ? true : undefined;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 250,
        description: 'log before the lagger, old records and ana file 1 pruned',
      },
    );

    // Passes go on (one per second); what the lagger needs survives them.
    await waitFor(
      async () =>
        (
          await one<{ n: number }>(
            `SELECT count(*)::int AS n FROM sync_outbound_file WHERE client = 'ana-laptop' AND epoch = 1 AND file_seq = 1`,
          )
        ).n === 0 || undefined,
      { timeoutMs: 30_000, intervalMs: 250, description: "ana's first outbound file pruned" },
    );
    const remaining = await logSeqs();
    expect(needed.filter((s) => !remaining.includes(s))).toEqual([]);
    const lagState = await one<{ from_seq: string; pending: boolean }>(
      `SELECT s.from_seq, coalesce(c.extract_requested_at > s.extracted_at, false) AS pending
         FROM sync_route_state s JOIN sync_client c ON c.name = s.client WHERE s.client = 'lag-laptop'`,
    );
    expect(Number(lagState.from_seq)).toBe(position);
    expect(lagState.pending).toBe(false);

    const lagInbox = await world.db.query(
      `SELECT file_seq, status FROM sync_inbox_file WHERE client = 'lag-laptop' ORDER BY file_seq`,
    );
    expect(lagInbox.rows).toEqual([
      { file_seq: 1, status: 'quarantined' },
      { file_seq: 2, status: 'received' },
      { file_seq: 3, status: 'quarantined' },
    ]);
    // ana's newest upload stays (the next file's number continues from it); file 1's bytes are gone.
    const anaInbox = await world.db.query(
      `SELECT file_seq FROM sync_inbox_file WHERE client = 'ana-laptop' ORDER BY file_seq`,
    );
    expect(anaInbox.rows.map((r) => r.file_seq)).toEqual([2]);
    expect(await listKeys(world.s3, world.inboxBucket, 'archive/ana-laptop/')).toEqual([
      'archive/ana-laptop/000000000002.dx',
    ]);
    // Every outbound object left belongs to a row left, and no row left is an old delivered one
    // except the newest of the client's current epoch.
    // The router stores a file's object before its row commits: a file being written at this very
    // moment (ana's laptop is re-extracted while it does not download) is waited for, a leaked
    // object never gets a row and fails the wait.
    let keys: string[] = [];
    await waitFor(
      async () => {
        keys = await listKeys(world.s3, world.outboxBucket, 'outbox/ana-laptop/');
        const rows = await world.db.query<{ object_key: string }>(
          `SELECT object_key FROM sync_outbound_file WHERE client = 'ana-laptop'`,
        );
        return keys.every((k) => rows.rows.some((r) => r.object_key === k));
      },
      { timeoutMs: 15_000, description: 'every outbound object of ana-laptop registered' },
    );
    expect(keys).not.toContain('outbox/ana-laptop/1/000000000001.dx');
    const oldDelivered = await one<{ n: number }>(
      `SELECT count(*)::int AS n FROM sync_outbound_file f JOIN sync_route_state s ON s.client = f.client
        WHERE f.client = 'ana-laptop' AND coalesce(f.acked_at, f.obsolete_at) < now() - interval '1 minute'
          AND NOT (f.epoch = s.epoch AND f.file_seq = (SELECT max(file_seq) FROM sync_outbound_file m
                                                       WHERE m.client = f.client AND m.epoch = f.epoch))`,
    );
    expect(oldDelivered.n).toBe(0);

    // The router counts what it pruned, by kind.
    const metrics = await (await fetch(world.stack.endpoints.router.metrics)).text();
    for (const kind of ['log', 'conflict', 'refusal', 'auth_audit', 'inbox_file', 'outbound_file'])
      expect(metrics).toMatch(
        new RegExp(`^outpost_retention_pruned_total\\{[^}]*kind="${kind}"[^}]*\\} [1-9]`, 'm'),
      );
  });

  it('removes the parts of an upload never finished once they are older than the retention', async () => {
    const store = stackObjectStore(world.stack);
    const sha = 'ab'.repeat(32);
    const put = (offset: number) =>
      store.putStream(
        store.inboxBucket,
        partKey('gone-laptop', 3, sha, offset),
        Readable.from([Buffer.alloc(64)]),
      );
    await put(0);
    await waitFor(
      async () => (await listKeys(world.s3, world.inboxBucket, partsPrefix('gone-laptop'))).length === 0,
      {
        timeoutMs: 60_000,
        description: 'the abandoned part removed by a prune pass',
      },
    );
    // Written after the pass that removed the old one: younger than the retention, so it stays.
    await put(65_536);
    expect(await listKeys(world.s3, world.inboxBucket, partsPrefix('gone-laptop'))).toEqual([
      partKey('gone-laptop', 3, sha, 65_536),
    ]);
    const metrics = await (await fetch(world.stack.endpoints.router.metrics)).text();
    expect(metrics).toMatch(/outpost_retention_pruned_total\{[^}]*kind="upload_part"[^}]*\} [1-9]/);
  });

  it('re-extracts a laptop that has not downloaded for longer than the retention, keeping its unsent change', async () => {
    // The lagger of the test above leaves: a deactivated client holds no log back, and is asked
    // to re-extract once the entries after its position are pruned (should it come back).
    await adminJson(['clients', 'deactivate', 'lag-laptop'], world.stack);
    const cy = await world.laptop('cy-laptop', 'cy');
    const before = await one<{ epoch: number }>(
      `SELECT epoch FROM sync_route_state WHERE client = 'cy-laptop'`,
    );
    // Offline: a change on the laptop, and a server change routed to it that it never downloads.
    await exec(cy, `INSERT INTO account (name, owner_login) VALUES ('Cy Offline', 'cy')`);
    await world.db.query(
      `INSERT INTO account (id, name, owner_login) VALUES (gen_random_uuid(), 'Cy Server', 'cy')`,
    );
    const waiting = await waitFor(
      async () =>
        (
          await world.db.query<{ object_key: string }>(
            `SELECT object_key FROM sync_outbound_file WHERE client = 'cy-laptop' AND epoch = $1 AND kind = 'changes'`,
            [before.epoch],
          )
        ).rows[0]?.object_key,
      { timeoutMs: 30_000, description: 'the server change routed to cy-laptop' },
    );
    await captureBarrier(world.db);
    const { seq: serverChange } = await one<{ seq: string }>(
      `SELECT max(seq) AS seq FROM sync_txn_log WHERE table_name = 'account'`,
    );
    // The newest log entry always stays (an extract's position is max(seq)): another user's change follows.
    await world.db.query(
      `INSERT INTO account (id, name, owner_login) VALUES (gen_random_uuid(), 'Zed', 'zed')`,
    );

    // Past the retention: re-extracted, its undelivered file pruned with its object, its log passed and pruned.
    await waitFor(
      async () => {
        const state = await one<{ epoch: number }>(
          `SELECT epoch FROM sync_route_state WHERE client = 'cy-laptop'`,
        );
        const file = await one<{ n: number }>(
          `SELECT count(*)::int AS n FROM sync_outbound_file WHERE object_key = $1`,
          [waiting],
        );
        const log = await one<{ n: number }>(`SELECT count(*)::int AS n FROM sync_txn_log WHERE seq <= $1`, [
          serverChange,
        ]);
        return state.epoch > before.epoch && file.n === 0 && log.n === 0 ? true : undefined;
      },
      {
        timeoutMs: 45_000,
        intervalMs: 250,
        description: 'cy-laptop re-extracted and its old file and log pruned',
      },
    );
    expect(await listKeys(world.s3, world.outboxBucket, waiting)).toEqual([]);
    const lagger = await one<{ pending: boolean }>(
      `SELECT c.extract_requested_at > s.extracted_at AS pending
         FROM sync_client c JOIN sync_route_state s ON s.client = c.name WHERE c.name = 'lag-laptop'`,
    );
    expect(lagger.pending).toBe(true);
    expect(await query(cy, `SELECT name FROM account WHERE name = 'Cy Offline'`)).toEqual([
      { name: 'Cy Offline' },
    ]);

    // Back online: the unsent change reaches the server and the laptop holds what cy may see.
    await waitFor(
      async () => {
        await sync(cy);
        const server = await world.db.query(
          `SELECT 1 FROM account WHERE name = 'Cy Offline' AND owner_login = 'cy'`,
        );
        if (server.rowCount !== 1) return undefined;
        const diff = await checkAgainstOracle(world.db, salesSchema, 'cy', { dir: cy });
        return diff.length === 0 ? true : undefined;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 500,
        description: 'cy-laptop converged with its offline change on the server',
      },
    );
    const names = (await query(cy, `SELECT name FROM account ORDER BY name`)).map((r) => r.name);
    expect(names).toEqual(['Cy Offline', 'Cy Server']);
    const once = await one<{ n: number }>(`SELECT count(*)::int AS n FROM account WHERE name = 'Cy Offline'`);
    expect(once.n).toBe(1);
  });
});
