import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { delay } from '@outpost/test-support';
import { newAgent, sync, withStore } from '../fixtures/agents';
import { main } from '../harness/main';
import { figure, repeat, type Scenario } from '../harness/scenario';

const WARMUP_RUNS = 20;
const TARGET_P50_MS = 150;
const POLL_MS = 2;

/**
 * One local change, `sync`, until the row is in Postgres: the clock starts before the local write and
 * stops when a poll of the server database sees the row (the sync itself goes on to download and
 * close its session; the next run waits for it).
 */
export const roundTripScenario: Scenario = {
  name: 'round-trip',
  title: 'round trip',
  services: true,
  defaults: { warmup: 1, repetitions: 1 },
  async run(ctx) {
    const runs = ctx.sizes.roundTripRuns;
    const { stack } = await ctx.env.stack('round-trip');
    const root = ctx.env.tempDir('round-trip');
    const cfg = await newAgent(stack, root, 'rt-agent', 'rt-user');
    const pg = new Client({ connectionString: stack.databaseUrl });
    await pg.connect();
    const syncMs: number[] = [];
    try {
      const once = async (measured: boolean): Promise<number> => {
        const id = randomUUID();
        const started = performance.now();
        await withStore(cfg, (store) =>
          store.db
            .prepare('INSERT INTO account (id, name, owner_login) VALUES (?, ?, ?)')
            .run(id, `round trip ${id}`, 'rt-user'),
        );
        const syncing = sync(cfg);
        let failure: unknown = null;
        syncing.catch((error: unknown) => (failure = error));
        for (;;) {
          const { rowCount } = await pg.query('SELECT 1 FROM account WHERE id = $1', [id]);
          if (rowCount) break;
          if (failure !== null) throw failure;
          if (performance.now() - started > 60_000)
            throw new Error(`the row ${id} did not reach Postgres within 60 s of the sync`);
          await delay(POLL_MS);
        }
        const elapsed = performance.now() - started;
        await syncing;
        if (measured) syncMs.push(performance.now() - started);
        return elapsed;
      };
      const batches = await repeat(ctx, 'round trip', async (rep) => {
        const count = rep < 0 ? Math.min(WARMUP_RUNS, runs) : runs;
        const times: number[] = [];
        for (let i = 0; i < count; i++) {
          ctx.progress.update(`round trip: ${rep < 0 ? 'warm-up ' : ''}run ${i + 1}/${count}`);
          times.push(await once(rep >= 0));
        }
        return times;
      });
      const samples = batches.flat();
      const f = figure(
        { label: 'change to Postgres', unit: 'ms', higherIsBetter: false, stat: 'p50' },
        samples,
      );
      const p99 = figure(
        { label: 'change to Postgres', unit: 'ms', higherIsBetter: false, stat: 'p99' },
        samples,
      );
      const whole = figure({ label: 'whole sync command', unit: 'ms', higherIsBetter: false }, syncMs);
      return {
        sizes: { runs: samples.length },
        figures: [f, p99, whole],
        target: { text: `p50 <= ${TARGET_P50_MS} ms`, met: f.summary.p50 <= TARGET_P50_MS },
        notes: [
          `p50 ${f.summary.p50.toFixed(0)} ms, p99 ${f.summary.p99.toFixed(0)} ms over ${samples.length} runs (warm-up: ${ctx.warmup} × ${Math.min(WARMUP_RUNS, runs)} runs); Postgres polled every ${POLL_MS} ms`,
        ],
      };
    } finally {
      await pg.end();
    }
  },
};

if (require.main === module) void main([roundTripScenario]);
