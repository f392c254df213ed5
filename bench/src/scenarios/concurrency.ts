import type { Pool } from 'pg';
import { delay } from '@outpost/test-support';
import { insertLocal, mapLimit, newAgent, sync, withStore } from '../fixtures/agents';
import { salesRows, type BenchRow } from '../fixtures/rows';
import { appliedTxns, countRows } from '../fixtures/server-rows';
import { main } from '../harness/main';
import { figure, repeat, type Scenario } from '../harness/scenario';
import { percentile } from '../harness/stats';

const SETUP_CONCURRENCY = 16;
const SETTLE_TIMEOUT_MS = 300_000;

/** How many log entries record each row's insert: once per row is the "applied once" check. */
async function insertsLogged(db: Pool, rows: BenchRow[]): Promise<{ entries: number; rows: number }> {
  const ids = rows.map((r) => r.values.id);
  const { rows: result } = await db.query<{ entries: string; distinct_rows: string }>(
    "SELECT count(*) AS entries, count(DISTINCT row_id) AS distinct_rows FROM sync_txn_log WHERE op = 'insert' AND row_id = ANY($1::uuid[])",
    [ids],
  );
  return { entries: Number(result[0].entries), rows: Number(result[0].distinct_rows) };
}

/**
 * Many agents, in this process, each with a few pending changes, start `sync` at the same moment.
 * Counted: failed syncs, each session's duration, and the time until every change is applied; then
 * every change must be in Postgres exactly once.
 */
export const concurrencyScenario: Scenario = {
  name: 'concurrency',
  title: 'concurrency',
  services: true,
  defaults: { warmup: 0, repetitions: 1 },
  async run(ctx) {
    const agents = ctx.sizes.agents;
    const changes = ctx.sizes.changesPerAgent;
    const total = agents * changes;
    const { stack, db } = await ctx.env.stack('concurrency');
    const root = ctx.env.tempDir('concurrency');
    const notes: string[] = [];
    const samples = await repeat(ctx, 'concurrency', async (rep) => {
      const tag = `cc${rep < 0 ? `w${-rep}` : rep}`;
      let ready = 0;
      const configs = await mapLimit(
        Array.from({ length: agents }, (_, k) => k),
        SETUP_CONCURRENCY,
        async (k) => {
          const cfg = await newAgent(stack, root, `${tag}-agent-${k}`, `${tag}-user-${k}`);
          ctx.progress.update(`concurrency ${tag}: ${++ready}/${agents} agents initialised`);
          return cfg;
        },
      );
      const all: BenchRow[] = [];
      for (const [k, cfg] of configs.entries()) {
        const rows = salesRows(changes, `${tag}-user-${k}`, `${tag}-${k}`);
        await withStore(cfg, (store) => insertLocal(store.db, rows));
        all.push(...rows);
      }
      const names = configs.map((c) => c.client);
      ctx.progress.update(`concurrency ${tag}: ${agents} agents syncing at once`);
      const started = performance.now();
      const sessions = await Promise.allSettled(
        configs.map(async (cfg) => {
          const t0 = performance.now();
          await sync(cfg);
          return performance.now() - t0;
        }),
      );
      const failures = sessions.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      const deadline = performance.now() + SETTLE_TIMEOUT_MS;
      let applied = await appliedTxns(db, names);
      while (applied < total && performance.now() < deadline) {
        await delay(50);
        applied = await appliedTxns(db, names);
      }
      const totalMs = performance.now() - started;
      const durations = sessions.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const landed = await countRows(db, all);
      const logged = await insertsLogged(db, all);
      if (failures.length > 0) {
        notes.push(
          `${tag}: ${failures.length} syncs failed; first: ${String(failures[0].reason).split('\n')[0]}`,
        );
      }
      if (logged.entries !== logged.rows)
        notes.push(`${tag}: ${logged.entries - logged.rows} changes were applied more than once`);
      return {
        errors: failures.length,
        p99: durations.length ? percentile(durations, 99) : Number.NaN,
        totalS: totalMs / 1000,
        landed,
        appliedOnce: logged.entries === logged.rows && logged.rows === total && landed === total,
      };
    });
    const allOk = samples.every((s) => s.errors === 0 && s.appliedOnce);
    notes.push(
      `rows in Postgres per repetition: ${samples.map((s) => s.landed).join(', ')} of ${total}; ` +
        `each applied exactly once: ${samples.every((s) => s.appliedOnce) ? 'yes' : 'NO'}`,
    );
    return {
      sizes: { agents, changesPerAgent: changes },
      figures: [
        figure(
          { label: 'errors', unit: '', higherIsBetter: false },
          samples.map((s) => s.errors),
        ),
        figure(
          { label: 'p99 session time', unit: 'ms', higherIsBetter: false },
          samples.map((s) => s.p99).filter(Number.isFinite),
        ),
        figure(
          { label: 'total time to all applied', unit: 's', higherIsBetter: false },
          samples.map((s) => s.totalS),
        ),
      ],
      target: { text: `0 errors, all ${total} changes applied once`, met: allOk },
      notes,
    };
  },
};

if (require.main === module) void main([concurrencyScenario]);
