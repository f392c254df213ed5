import { Client, type Pool } from 'pg';
import { captureBarrier } from '@outpost/server-db';
import { main } from '../harness/main';
import { figure, ratioTarget, repeat, type Scenario } from '../harness/scenario';
import { perSecond } from '../harness/stats';

const ROWS = 10_000;
const WORK_MS = 5;
/** Same columns, defaults, indexes and constraints as `opportunity`; no trigger, no publication. */
const PLAIN = 'bench_plain_opportunity';
/** The same again with only the version trigger: how much of the gap the trigger is. */
const VERSIONED = 'bench_versioned_opportunity';

/** Ten thousand opportunities on a hundred accounts, in the synced table and in its uncaptured twin. */
async function seed(db: Pool): Promise<string[]> {
  await db.query(
    `INSERT INTO account (id, name, owner_login)
     SELECT gen_random_uuid(), 'writers account ' || i, 'writer-' || (i % 10) FROM generate_series(1, 100) i`,
  );
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO opportunity (id, account_id, name, stage, amount, close_date, owner_login)
     SELECT gen_random_uuid(), a.id, 'writers deal ' || i, 'Prospecting', 1000, DATE '2027-06-30', 'writer-' || (i % 10)
       FROM generate_series(1, $1::int) i
       JOIN LATERAL (SELECT id FROM account WHERE name = 'writers account ' || (1 + i % 100)) a ON true
     RETURNING id::text AS id`,
    [ROWS],
  );
  await db.query(`CREATE TABLE ${PLAIN} (LIKE opportunity INCLUDING ALL)`);
  await db.query(`INSERT INTO ${PLAIN} SELECT * FROM opportunity`);
  await db.query(`CREATE TABLE ${VERSIONED} (LIKE opportunity INCLUDING ALL)`);
  await db.query(`INSERT INTO ${VERSIONED} SELECT * FROM opportunity`);
  await db.query(
    `CREATE TRIGGER ${VERSIONED}_version BEFORE UPDATE ON ${VERSIONED} FOR EACH ROW EXECUTE FUNCTION sync_bump_version()`,
  );
  await db.query(`VACUUM ANALYZE opportunity`);
  await db.query(`VACUUM ANALYZE ${PLAIN}`);
  await db.query(`VACUUM ANALYZE ${VERSIONED}`);
  return rows.map((r) => r.id);
}

/**
 * `writers` connections, each running transactions of one random-row update plus `WORK_MS` of work
 * inside the transaction, for `seconds`; returns committed transactions per second.
 */
async function writeFor(url: string, table: string, ids: string[], writers: number, seconds: number) {
  const clients = Array.from({ length: writers }, () => new Client({ connectionString: url }));
  await Promise.all(clients.map((c) => c.connect()));
  try {
    let committed = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    await Promise.all(
      clients.map(async (c) => {
        while (performance.now() < deadline) {
          const id = ids[Math.floor(Math.random() * ids.length)];
          await c.query('BEGIN');
          await c.query(`UPDATE ${table} SET amount = amount + 1 WHERE id = $1`, [id]);
          await c.query('SELECT pg_sleep($1)', [WORK_MS / 1000]);
          await c.query('COMMIT');
          committed += 1;
        }
      }),
    );
    return perSecond(committed, performance.now() - started);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

/**
 * The web application that shares the database: concurrent writers doing a little work inside each
 * transaction on a synced table, while the router captures and routes, against the same on a table
 * that nothing captures, in the same database at the same time.
 */
export const appWritersScenario: Scenario = {
  name: 'app-writers',
  title: 'app writers',
  services: true,
  defaults: { warmup: 1, repetitions: 3 },
  async run(ctx) {
    const writers = ctx.sizes.appWriters;
    const seconds = ctx.sizes.appWritersSeconds;
    const { stack, db } = await ctx.env.stack('app-writers');
    ctx.progress.update('app writers: seeding');
    const ids = await seed(db);
    if (!(await captureBarrier(db, { timeoutMs: 120_000 })))
      throw new Error('the capture did not catch up with the seed rows');
    const before = Number(
      (await db.query<{ n: string }>('SELECT count(*) AS n FROM sync_txn_log')).rows[0].n,
    );
    const samples = await repeat(ctx, 'app writers', async (i) => {
      // Alternate which goes first, so neither always runs on a warmer server.
      const order: Array<'synced' | 'plain' | 'versioned'> =
        i % 2 === 0 ? ['synced', 'plain', 'versioned'] : ['versioned', 'plain', 'synced'];
      const tables = { synced: 'opportunity', plain: PLAIN, versioned: VERSIONED };
      const out = { synced: 0, plain: 0, versioned: 0 };
      for (const which of order) {
        ctx.progress.update(`app writers ${i}: ${which}`);
        out[which] = await writeFor(stack.databaseUrl, tables[which], ids, writers, seconds);
      }
      return out;
    });
    // Every committed update of the synced table reached the log: capture kept up, it was not skipped.
    if (!(await captureBarrier(db, { timeoutMs: 300_000 })))
      throw new Error('the capture did not catch up with the writers');
    const { rows } = await db.query<{ logged: string; versions: string }>(
      `SELECT (SELECT count(*) FROM sync_txn_log) - $1::bigint AS logged,
              (SELECT sum(row_version - 1) FROM opportunity WHERE name LIKE 'writers deal %') AS versions`,
      [before],
    );
    if (rows[0].logged !== rows[0].versions)
      throw new Error(`${rows[0].logged} updates logged for ${rows[0].versions} committed`);
    const f = figure(
      { label: 'transactions/s', unit: 'txn/s', higherIsBetter: true },
      samples.map((s) => s.synced),
      {
        label: `the same writers on a copy of the table that nothing captures (no trigger, no publication)`,
        samples: samples.map((s) => s.plain),
      },
    );
    return {
      sizes: { writers, secondsPerRun: seconds, rows: ROWS, workMsPerTransaction: WORK_MS },
      figures: [f],
      target: ratioTarget(f, 0.9),
      notes: [
        `${rows[0].logged} updates of the synced table captured into the log, one per committed update`,
        `per run, txn/s: synced ${list(samples, 'synced')}; uncaptured ${list(samples, 'plain')}; ` +
          `uncaptured with only the version trigger ${list(samples, 'versioned')}`,
      ],
    };
  },
};

function list(samples: Array<Record<string, number>>, key: string): string {
  return samples.map((s) => s[key].toFixed(0)).join(', ');
}

if (require.main === module) void main([appWritersScenario]);
