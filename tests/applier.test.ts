import { Client, Pool, types } from 'pg';
import { dxToPg, pgToDx, pgTypeParsers, type ColumnDef } from '@outpost/schema';
import { waitFor } from '@outpost/test-support';
import { ApplierEnv, txn, uuid, type ApplierProcess } from './support/applier-env';

/** The applier as a process against real Postgres, RabbitMQ and S3. Build first: `npx tsc -b services/applier`. */
jest.setTimeout(120_000);

describe('applier', () => {
  const env = new ApplierEnv();
  let applier: ApplierProcess;

  beforeAll(async () => {
    await env.open();
    await env.startRouter();
    applier = await env.startApplier();
    await env.addClient('laptop-1', 'alice');
  });
  afterAll(() => env.close());

  const row = async (table: string, id: string) =>
    (await env.db.query(`SELECT *, row_version::int AS v FROM ${table} WHERE id = $1`, [id])).rows[0] as
      Record<string, unknown> | undefined;

  it('applies inserts, updates and deletes with exact values and logs them with the client as origin', async () => {
    const acc = uuid();
    const opp = uuid();
    const gone = uuid();
    await env.putFile('laptop-1', 1, [
      txn(1, 'insert', {
        table: 'account',
        id: acc,
        row: { id: acc, name: 'Ünïcødé Ltd — 東京', owner_login: 'alice' },
      }),
      txn(2, 'insert', {
        table: 'opportunity',
        id: opp,
        row: {
          id: opp,
          account_id: acc,
          name: 'Big deal',
          stage: 'Prospect',
          amount: { $dec: '1250000.10' },
          close_date: { $date: '2024-02-29' },
          owner_login: 'alice',
        },
      }),
      txn(3, 'insert', {
        table: 'contact',
        id: gone,
        row: { id: gone, account_id: acc, first_name: null, last_name: 'Temp', email: null },
      }),
      txn(4, 'update', {
        table: 'opportunity',
        id: opp,
        base: null,
        changes: {
          stage: { old: 'Prospect', new: 'Closed Won' },
          amount: { old: { $dec: '1250000.10' }, new: { $dec: '99999999999999.99' } },
        },
      }),
      txn(5, 'delete', { table: 'contact', id: gone, base: null }),
    ]);
    const kicksBefore = await env.kickCount();
    await env.publishReceived('laptop-1', 1);
    await env.waitApplied('laptop-1', 1);

    expect(await env.position('laptop-1')).toEqual({ fileSeq: 1, txnSeq: 5 });
    expect(await row('account', acc)).toMatchObject({
      name: 'Ünïcødé Ltd — 東京',
      owner_login: 'alice',
      v: 1,
      sync_conflict_of: null,
    });
    expect(await row('opportunity', opp)).toMatchObject({
      stage: 'Closed Won',
      amount: '99999999999999.99',
      close_date: '2024-02-29',
      v: 1,
    });
    expect(await row('contact', gone)).toBeUndefined();
    await env.waitCaptured();
    const log = await env.db.query(
      `SELECT op, table_name, origin_client, origin_user, origin_txn_seq, echo FROM sync_txn_log ORDER BY seq`,
    );
    // One chunk: the contact was inserted and deleted inside it, so it never reached the table.
    expect(log.rows).toEqual([
      {
        op: 'insert',
        table_name: 'account',
        origin_client: 'laptop-1',
        origin_user: 'alice',
        origin_txn_seq: null,
        echo: false,
      },
      {
        op: 'insert',
        table_name: 'opportunity',
        origin_client: 'laptop-1',
        origin_user: 'alice',
        origin_txn_seq: null,
        echo: false,
      },
      {
        op: 'confirm',
        table_name: null,
        origin_client: 'laptop-1',
        origin_user: null,
        origin_txn_seq: '5',
        echo: false,
      },
    ]);
    expect((await env.inboxFile('laptop-1', 1)).status).toBe('applied');
    // The object moves to archive/ after the commit.
    await waitFor(
      async () => (await env.inboxFile('laptop-1', 1)).object_key === 'archive/laptop-1/000000000001.dx',
      { description: 'the applied file moved to archive/' },
    );
    await waitFor(async () => (await env.kickCount()) > kicksBefore, {
      description: 'a router.kick after the commit',
    });
  });

  it('applies files in seq order whatever the order of their messages, and a redelivery applies nothing twice', async () => {
    await env.addClient('laptop-2', 'bob');
    const acc = uuid();
    await env.putFile('laptop-2', 2, [
      txn(2, 'update', {
        table: 'account',
        id: acc,
        base: null,
        changes: { name: { old: 'v1', new: 'v2' } },
        user: 'bob',
      }),
    ]);
    await env.putFile('laptop-2', 3, [
      txn(3, 'update', {
        table: 'account',
        id: acc,
        base: null,
        changes: { name: { old: 'v2', new: 'v3' } },
        user: 'bob',
      }),
    ]);
    await env.publishReceived('laptop-2', 3);
    await env.publishReceived('laptop-2', 2);
    await waitFor(async () => (await env.readyMessages()) === 0, {
      description: 'the applier to take both wake-ups',
    });
    expect(await env.position('laptop-2')).toEqual({ fileSeq: 0, txnSeq: 0 });
    expect((await env.inboxFile('laptop-2', 2)).status).toBe('received');

    await env.putFile('laptop-2', 1, [
      txn(1, 'insert', {
        table: 'account',
        id: acc,
        row: { id: acc, name: 'v1', owner_login: 'bob' },
        user: 'bob',
      }),
    ]);
    await env.publishReceived('laptop-2', 1);
    await env.waitApplied('laptop-2', 3);
    expect(await row('account', acc)).toMatchObject({ name: 'v3', v: 3 });

    // Redeliveries of old wake-ups, then a new file: once it is applied, the old ones were no-ops.
    await env.publishReceived('laptop-2', 1);
    await env.publishReceived('laptop-2', 2);
    await env.putFile('laptop-2', 4, [
      txn(4, 'update', {
        table: 'account',
        id: acc,
        base: null,
        changes: { owner_login: { old: 'bob', new: 'carol' } },
        user: 'bob',
      }),
    ]);
    await env.publishReceived('laptop-2', 4);
    await env.waitApplied('laptop-2', 4);
    await env.publishReceived('laptop-2', 4);
    await env.publishReceived('laptop-2', 3);
    await waitFor(
      async () =>
        (
          await env.db.query(
            `SELECT 1 FROM sync_txn_log WHERE origin_client = 'laptop-2' AND op = 'confirm' AND origin_txn_seq = 4`,
          )
        ).rowCount === 1,
    );
    expect(await row('account', acc)).toMatchObject({ name: 'v3', owner_login: 'carol', v: 4 });
    await env.waitCaptured();
    const counts = await env.db.query(
      `SELECT op, count(*)::int AS n FROM sync_txn_log WHERE origin_client = 'laptop-2' GROUP BY op ORDER BY op`,
    );
    expect(counts.rows).toEqual([
      { op: 'confirm', n: 4 },
      { op: 'insert', n: 1 },
      { op: 'update', n: 3 },
    ]);
    const confirms = await env.db.query(
      `SELECT origin_txn_seq::int AS s FROM sync_txn_log WHERE origin_client = 'laptop-2' AND op = 'confirm' ORDER BY seq`,
    );
    expect(confirms.rows.map((r) => r.s)).toEqual([1, 2, 3, 4]);
  });

  it('quarantines a file naming an unknown table, with a reason, and later files wait behind it', async () => {
    await env.addClient('laptop-3', 'carol');
    const a = uuid();
    await env.putFile('laptop-3', 1, [
      txn(1, 'insert', {
        table: 'account',
        id: a,
        row: { id: a, name: 'Kept out', owner_login: null },
        user: 'carol',
      }),
      txn(2, 'insert', { table: 'invoice', id: uuid(), row: { total: 3 }, user: 'carol' }),
    ]);
    await env.putFile('laptop-3', 2, [
      txn(3, 'delete', { table: 'account', id: a, base: null, user: 'carol' }),
    ]);
    await env.publishReceived('laptop-3', 2);
    await env.publishReceived('laptop-3', 1);
    const file = await waitFor(
      async () => {
        const f = await env.inboxFile('laptop-3', 1);
        return f.status === 'quarantined' && f.object_key.startsWith('quarantine/') ? f : null;
      },
      { description: 'file laptop-3/1 quarantined and moved' },
    );
    expect(file.reason).toMatch(/UNKNOWN_TABLE/);
    expect(file.reason).toMatch(/transaction #1 \(seq 2, table "invoice"/);
    expect(file.reason).toMatch(/schema "sales"/);
    await env.s3.statObject(env.inboxBucket, file.object_key);
    expect(await row('account', a)).toBeUndefined();
    expect(await env.position('laptop-3')).toEqual({ fileSeq: 0, txnSeq: 0 });
    expect((await env.inboxFile('laptop-3', 2)).status).toBe('received');
  });

  it('quarantines a value of the wrong type with the column named', async () => {
    await env.addClient('laptop-4', 'dan');
    const o = uuid();
    await env.putFile('laptop-4', 1, [
      txn(1, 'insert', {
        table: 'opportunity',
        id: o,
        row: {
          id: o,
          account_id: uuid(),
          name: 'x',
          stage: 's',
          amount: { $dec: '1.234' },
          close_date: null,
          owner_login: 'dan',
        },
        user: 'dan',
      }),
    ]);
    await env.publishReceived('laptop-4', 1);
    const file = await waitFor(async () => {
      const f = await env.inboxFile('laptop-4', 1);
      return f.status === 'quarantined' ? f : null;
    });
    expect(file.reason).toMatch(
      /BAD_VALUE.*column "amount" \(decimal, nullable\).*more than 2 decimal places/,
    );
  });

  it('leaves nothing half applied when it dies between chunks, and applies the file once after restart', async () => {
    await env.addClient('laptop-5', 'erin');
    await applier.stop();
    const ids = Array.from({ length: 35 }, () => uuid());
    await env.putFile(
      'laptop-5',
      1,
      ids.map((id, i) =>
        txn(i + 1, 'insert', {
          table: 'account',
          id,
          row: { id, name: `crash ${i}`, owner_login: 'erin' },
          user: 'erin',
        }),
      ),
    );
    // Its start-up sweep finds the file; the fault hook kills it after the second of four chunks.
    const doomed = await env.startApplier(
      { APPLY_CHUNK_TXNS: '10', APPLY_TEST_FAULT_AFTER_CHUNKS: '2' },
      { waitHealthy: false },
    );
    await env.publishReceived('laptop-5', 1);
    expect((await doomed.exited).signal).toBe('SIGKILL');
    expect(doomed.output()).not.toMatch(/applied laptop-5/);
    await doomed.stop();

    expect(
      (await env.db.query(`SELECT count(*)::int AS n FROM account WHERE name LIKE 'crash %'`)).rows[0].n,
    ).toBe(0);
    await env.waitCaptured();
    expect(
      (await env.db.query(`SELECT count(*)::int AS n FROM sync_txn_log WHERE origin_client = 'laptop-5'`))
        .rows[0].n,
    ).toBe(0);
    expect(await env.position('laptop-5')).toEqual({ fileSeq: 0, txnSeq: 0 });

    applier = await env.startApplier({ APPLY_CHUNK_TXNS: '10' });
    await env.waitApplied('laptop-5', 1);
    const rows = await env.db.query(`SELECT row_version::int AS v FROM account WHERE name LIKE 'crash %'`);
    expect(rows.rows).toHaveLength(35);
    expect(rows.rows.every((r) => r.v === 1)).toBe(true);
    await env.waitCaptured();
    const log = await env.db.query(
      `SELECT op, count(*)::int AS n FROM sync_txn_log WHERE origin_client = 'laptop-5' GROUP BY op ORDER BY op`,
    );
    expect(log.rows).toEqual([
      { op: 'confirm', n: 1 },
      { op: 'insert', n: 35 },
    ]);
  });

  it('captures direct SQL writes with no origin', async () => {
    const id = uuid();
    await env.db.query(`INSERT INTO account (id, name, owner_login) VALUES ($1, 'web app', 'alice')`, [id]);
    await env.db.query(`UPDATE account SET owner_login = 'bob' WHERE id = $1`, [id]);
    await env.db.query(`DELETE FROM account WHERE id = $1`, [id]);
    await env.waitCaptured();
    const log = await env.db.query(
      `SELECT op, origin_client, old_refs FROM sync_txn_log WHERE row_id = $1 ORDER BY seq`,
      [id],
    );
    expect(log.rows).toEqual([
      { op: 'insert', origin_client: null, old_refs: null },
      { op: 'update', origin_client: null, old_refs: { owner_login: 'alice' } },
      { op: 'delete', origin_client: null, old_refs: { owner_login: 'bob' } },
    ]);
  });

  it('logs concurrent writers in commit order, and no writer waits for another', async () => {
    const url = env.db.options.connectionString as string;
    const first = new Client({ connectionString: url });
    const second = new Client({ connectionString: url });
    await Promise.all([first.connect(), second.connect()]);
    try {
      await first.query('BEGIN');
      await second.query('BEGIN');
      await first.query(`INSERT INTO account (id, name) VALUES ($1, 'first writer')`, [uuid()]);
      // With the first transaction still open, the second writes and commits: nothing to wait for.
      await second.query(`INSERT INTO account (id, name) VALUES ($1, 'second writer')`, [uuid()]);
      await second.query('COMMIT');
      await first.query('COMMIT');
    } finally {
      await Promise.all([first.end(), second.end()]);
    }
    await env.waitCaptured();
    const order = await env.db.query(
      `SELECT a.name FROM sync_txn_log l JOIN account a ON a.id = l.row_id WHERE a.name LIKE '% writer' ORDER BY l.seq`,
    );
    expect(order.rows.map((r) => r.name)).toEqual(['second writer', 'first writer']);

    // Many interleaved writers and a router-like reader: it must never see a seq below one it already read.
    const stop = { done: false };
    const writers = Array.from({ length: 3 }, () => new Client({ connectionString: url }));
    await Promise.all(writers.map((w) => w.connect()));
    const reader = new Pool({ connectionString: url, max: 1 });
    const start = Number(
      (await reader.query(`SELECT coalesce(max(seq), 0) AS s FROM sync_txn_log`)).rows[0].s,
    );
    let watermark = start;
    const late: number[] = [];
    const reading = (async () => {
      const seen = new Set<number>();
      for (;;) {
        const last = stop.done;
        const res = await reader.query(`SELECT seq::int AS s FROM sync_txn_log WHERE seq > $1 ORDER BY seq`, [
          start,
        ]);
        const fresh = (res.rows as Array<{ s: number }>).map((r) => r.s).filter((s) => !seen.has(s));
        for (const s of fresh) {
          seen.add(s);
          if (s <= watermark) late.push(s);
        }
        watermark = Math.max(watermark, ...fresh);
        if (last) break;
      }
    })();
    await Promise.all(
      writers.map(async (w, k) => {
        for (let i = 0; i < 30; i += 1) {
          await w.query('BEGIN');
          await w.query(`INSERT INTO account (id, name) VALUES ($1, $2)`, [uuid(), `w${k}-${i}`]);
          await w.query(`UPDATE account SET owner_login = 'x' WHERE name = $1`, [`w${k}-${i}`]);
          await w.query('COMMIT');
        }
      }),
    );
    await env.waitCaptured();
    stop.done = true;
    await reading;
    await Promise.all(writers.map((w) => w.end()));
    await reader.end();
    expect(watermark).toBe(start + 3 * 30 * 2);
    expect(late).toEqual([]);
  });

  it('round-trips every column type through Postgres without loss', async () => {
    const cols: ColumnDef[] = [
      { name: 'i', type: 'integer', nullable: true },
      { name: 'd', type: 'decimal', precision: 30, scale: 4, nullable: true },
      { name: 'b', type: 'boolean', nullable: true },
      { name: 'dt', type: 'date', nullable: true },
      { name: 'ts', type: 'timestamp', nullable: true },
      { name: 'j', type: 'json', nullable: true },
      { name: 't', type: 'text', nullable: true },
    ];
    const pool = new Pool({
      connectionString: env.db.options.connectionString,
      max: 1,
      types: pgTypeParsers(types),
      options: '-c TimeZone=Asia/Tokyo',
    });
    try {
      await pool.query(
        `CREATE TEMP TABLE typed (i bigint, d numeric(30,4), b boolean, dt date, ts timestamptz, j jsonb, t text)`,
      );
      const values = [
        { $int: '9223372036854775807' },
        { $dec: '12345678901234567890123456.1200' },
        false,
        { $date: '1999-12-31' },
        { $ts: '2024-03-31T01:30:00.123456Z' },
        { $json: [1, { a: 'ü' }, null] },
        'naïve 😀',
      ] as const;
      await pool.query(
        `INSERT INTO typed VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        cols.map((c, k) => dxToPg(c, values[k])),
      );
      await pool.query(`INSERT INTO typed VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
      const res = await pool.query(`SELECT * FROM typed`);
      expect(cols.map((c) => pgToDx(c, res.rows[0][c.name]))).toEqual(values);
      expect(cols.map((c) => pgToDx(c, res.rows[1][c.name]))).toEqual(cols.map(() => null));
    } finally {
      await pool.end();
    }
  });
});
