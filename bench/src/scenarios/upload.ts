import type { Pool } from 'pg';
import { waitFor } from '@outpost/test-support';
import { mapLimit, newAgent, sync, withStore, insertLocal } from '../fixtures/agents';
import { salesRows, type BenchRow } from '../fixtures/rows';
import { appliedTxns, countRows, UPSERT_BATCH, upsertRows } from '../fixtures/server-rows';
import { main } from '../harness/main';
import { describeCpu, stackCpuMeter } from '../harness/proc';
import { figure, ratioTarget, repeat, type Scenario } from '../harness/scenario';
import { perSecond } from '../harness/stats';

/** When the files of these clients reached the inbox and when the applier committed them. */
async function inboxTimeline(db: Pool, clients: string[]): Promise<string> {
  const { rows } = await db.query<{
    files: string;
    upload_s: number;
    apply_s: number;
    tail_s: number;
    wait_p50_ms: number;
    wait_max_ms: number;
  }>(
    `SELECT count(*) AS files,
            extract(epoch FROM max(received_at) - min(received_at)) AS upload_s,
            extract(epoch FROM max(applied_at) - min(received_at)) AS apply_s,
            extract(epoch FROM max(applied_at) - max(received_at)) AS tail_s,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - received_at) * 1000) AS wait_p50_ms,
            max(extract(epoch FROM applied_at - received_at) * 1000) AS wait_max_ms
     FROM sync_inbox_file WHERE client = ANY($1)`,
    [clients],
  );
  const r = rows[0];
  return (
    `${r.files} files; first to last received ${Number(r.upload_s).toFixed(1)} s, first received to last applied ${Number(r.apply_s).toFixed(1)} s ` +
    `(${Number(r.tail_s).toFixed(1)} s after the last arrived); received-to-applied p50 ${Number(r.wait_p50_ms).toFixed(0)} ms, max ${Number(r.wait_max_ms).toFixed(0)} ms`
  );
}

/**
 * N agents with pending local inserts sync at once through the whole stack; the clock stops when the
 * applier has committed every transaction. The baseline writes the same rows into a database with
 * nothing reading their changes (no replication slot), 500 rows per upsert statement, from one process.
 */
export const uploadScenario: Scenario = {
  name: 'upload',
  title: 'upload ingest',
  services: true,
  defaults: { warmup: 1, repetitions: 3 },
  async run(ctx) {
    const total = ctx.sizes.uploadTxns;
    const agents = Math.min(ctx.sizes.uploadAgents, total);
    const { stack, db } = await ctx.env.stack('upload');
    const baseline = await ctx.env.migratedDatabase('upload_baseline');
    const root = ctx.env.tempDir('upload-agents');
    const notes: string[] = [];
    const samples = await repeat(ctx, 'upload ingest', async (rep) => {
      const tag = `up${rep < 0 ? `w${-rep}` : rep}`;
      ctx.progress.update(`upload ingest ${tag}: initialising ${agents} agents`);
      const configs = await mapLimit(
        Array.from({ length: agents }, (_, k) => k),
        4,
        (k) => newAgent(stack, root, `${tag}-agent-${k}`, `${tag}-user-${k}`),
      );
      const all: BenchRow[] = [];
      for (const [k, cfg] of configs.entries()) {
        const share = Math.floor(total / agents) + (k < total % agents ? 1 : 0);
        const rows = salesRows(share, `${tag}-user-${k}`, `${tag}-${k}`);
        await withStore(cfg, (store) => insertLocal(store.db, rows));
        all.push(...rows);
      }
      const names = configs.map((c) => c.client);
      ctx.progress.update(`upload ingest ${tag}: ${agents} agents syncing ${total} transactions`);
      const cpu = stackCpuMeter(stack.queuePrefix, ctx.env.helperPids());
      const started = performance.now();
      const syncs = Promise.allSettled(configs.map((cfg) => sync(cfg)));
      await waitFor(async () => (await appliedTxns(db, names)) >= total, {
        timeoutMs: Math.max(300_000, total * 10),
        intervalMs: 50,
        description: `the applier to commit ${total} transactions of ${agents} agents`,
      });
      const stackMs = performance.now() - started;
      if (rep >= 0) {
        notes.push(`${tag}: ${describeCpu(cpu.stop(), stackMs / 1000)}`);
        notes.push(`${tag}: ${await inboxTimeline(db, names)}`);
      }
      const failed = (await syncs).filter((r) => r.status === 'rejected');
      if (failed.length > 0)
        throw new Error(
          `${failed.length} syncs failed; first: ${String((failed[0] as PromiseRejectedResult).reason)}`,
        );
      const landed = await countRows(db, all);
      if (landed !== total)
        throw new Error(
          `only ${landed} of ${total} rows are in Postgres after every transaction was applied`,
        );

      ctx.progress.update(`upload ingest ${tag}: baseline upserts`);
      const baseStarted = performance.now();
      await upsertRows(baseline.db, all, UPSERT_BATCH);
      const baselineMs = performance.now() - baseStarted;
      return { stack: perSecond(total, stackMs), baseline: perSecond(total, baselineMs) };
    });
    const f = figure(
      { label: 'transactions/s', unit: 'txn/s', higherIsBetter: true },
      samples.map((s) => s.stack),
      {
        label: `the same rows upserted straight into Postgres, ${UPSERT_BATCH} per statement, nothing capturing them`,
        samples: samples.map((s) => s.baseline),
      },
    );
    return { sizes: { transactions: total, agents }, figures: [f], target: ratioTarget(f, 0.7), notes };
  },
};

if (require.main === module) void main([uploadScenario]);
