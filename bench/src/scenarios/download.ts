import { join } from 'node:path';
import { waitFor } from '@outpost/test-support';
import { newAgent, sync, TimingProgress, withStore } from '../fixtures/agents';
import { salesRows } from '../fixtures/rows';
import { routerCaughtUp, upsertRows } from '../fixtures/server-rows';
import { countLocalRows, insertServerRowsRaw, openPlainSqlite } from '../fixtures/sqlite-rows';
import { main } from '../harness/main';
import { describeCpu, stackCpuMeter } from '../harness/proc';
import { figure, ratioTarget, repeat, type Scenario } from '../harness/scenario';
import { perSecond } from '../harness/stats';

/**
 * Server changes for one client are written straight into Postgres and routed into its outbox; the
 * clock runs over the client's sync: download through the gateway and apply to its SQLite store.
 * The baseline inserts the same rows into the same tables of a plain SQLite file, in batches.
 */
export const downloadScenario: Scenario = {
  name: 'download',
  title: 'client download apply',
  services: true,
  defaults: { warmup: 1, repetitions: 3 },
  async run(ctx) {
    const n = ctx.sizes.downloadOps;
    const { stack, db } = await ctx.env.stack('download');
    const root = ctx.env.tempDir('download');
    const notes = new Set<string>();
    const samples = await repeat(ctx, 'client download apply', async (rep) => {
      const tag = `dl${rep < 0 ? `w${-rep}` : rep}`;
      const user = `${tag}-user`;
      const cfg = await newAgent(stack, root, `${tag}-agent`, user);
      const rows = salesRows(n, user, tag);
      ctx.progress.update(`client download apply ${tag}: writing ${n} server changes and routing them`);
      await upsertRows(db, rows);
      await waitFor(() => routerCaughtUp(db), {
        timeoutMs: Math.max(300_000, n * 10),
        intervalMs: 100,
        description: `the router to route ${n} server changes`,
      });
      ctx.progress.update(`client download apply ${tag}: syncing`);
      const timing = new TimingProgress();
      const cpu = stackCpuMeter(stack.queuePrefix, ctx.env.helperPids());
      const started = performance.now();
      const summary = await sync(cfg, { progress: timing });
      const elapsed = performance.now() - started;
      if (rep >= 0) notes.add(`${tag}: ${describeCpu(cpu.stop(), elapsed / 1000)}`);
      const local = await withStore(cfg, (store) => countLocalRows(store.db));
      if (local !== n) throw new Error(`the client holds ${local} rows after the sync, expected ${n}`);
      if (summary.downloaded.txns !== n)
        notes.add(`the router sent ${summary.downloaded.txns} operations for ${n} changed rows`);

      const plain = openPlainSqlite(join(root, `${tag}-plain.db`));
      let baselineMs: number;
      try {
        const baseStarted = performance.now();
        insertServerRowsRaw(plain, rows);
        baselineMs = performance.now() - baseStarted;
      } finally {
        plain.close();
      }
      return {
        ops: perSecond(summary.downloaded.txns, elapsed),
        baseline: perSecond(n, baselineMs),
        files: summary.downloaded.files,
        fetchMs: timing.transferMs.download,
        applyMs: timing.afterTransferMs.download,
        totalMs: elapsed,
      };
    });
    notes.add(`the router wrote ${samples.map((s) => s.files).join(', ')} download files per repetition`);
    for (const s of samples) {
      const other = s.totalMs - s.fetchMs - s.applyMs;
      notes.add(
        `sync ${(s.totalMs / 1000).toFixed(2)} s = transfer ${(s.fetchMs / 1000).toFixed(2)} s + verify, apply and ack ${(s.applyMs / 1000).toFixed(2)} s + session, list and waits between files ${(other / 1000).toFixed(2)} s`,
      );
    }
    const f = figure(
      { label: 'operations/s', unit: 'ops/s', higherIsBetter: true },
      samples.map((s) => s.ops),
      {
        label: 'raw inserts of the same rows into SQLite, 500 per statement, 5,000 per transaction',
        samples: samples.map((s) => s.baseline),
      },
    );
    return { sizes: { serverChanges: n }, figures: [f], target: ratioTarget(f, 0.5), notes: [...notes] };
  },
};

if (require.main === module) void main([downloadScenario]);
