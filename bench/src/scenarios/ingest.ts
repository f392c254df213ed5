import { createHash } from 'node:crypto';
import { connect } from 'amqplib';
import { DxWriter, type DxTransaction, type DxValue } from '@outpost/dx-format';
import { captureBarrier } from '@outpost/server-db';
import type { Pool } from 'pg';
import type { Stack } from '@outpost/test-support';
import { metricSample, waitFor } from '@outpost/test-support';
import { registerClient } from '../fixtures/agents';
import { salesRows, type BenchRow } from '../fixtures/rows';
import { appliedTxns, countRows, routerCaughtUp, UPSERT_BATCH, upsertRows } from '../fixtures/server-rows';
import { main } from '../harness/main';
import { describeCpu, stackCpuMeter } from '../harness/proc';
import { figure, ratioTarget, repeat, type Scenario } from '../harness/scenario';
import { perSecond } from '../harness/stats';

/** Transactions per upload file: the agent's default `--max-per-file`. */
const PER_FILE = 5_000;

function dxRow(row: BenchRow): Record<string, DxValue> {
  const v = row.values;
  if (row.table !== 'opportunity') return { ...v };
  return {
    ...v,
    amount: v.amount === null ? null : { $dec: v.amount },
    close_date: v.close_date === null ? null : { $date: v.close_date },
  };
}

async function dxFile(client: string, fileSeq: number, firstSeq: number, rows: BenchRow[], user: string) {
  const at = new Date().toISOString();
  const writer = new DxWriter({
    format: 'outpost-dx',
    version: 1,
    client,
    fileSeq,
    direction: 'upload',
    firstSeq,
    lastSeq: firstSeq + rows.length - 1,
    count: rows.length,
    createdAt: at,
  });
  const chunks: Buffer[] = [];
  writer.stream.on('data', (c: Buffer) => chunks.push(c));
  for (const [i, row] of rows.entries()) {
    const tx: DxTransaction = {
      seq: firstSeq + i,
      at,
      user,
      table: row.table,
      id: row.values.id as string,
      op: 'insert',
      row: dxRow(row),
    };
    await writer.write(tx);
  }
  await writer.end();
  return Buffer.concat(chunks);
}

/** Stores a file through the inbox-store's internal API, as the gateway does, without announcing it. */
async function store(
  stack: Stack,
  client: string,
  fileSeq: number,
  bytes: Buffer,
  first: number,
  count: number,
) {
  const res = await fetch(`${stack.inboxStoreUrl}/internal/inbox/${client}/${fileSeq}`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${stack.internalToken}`,
      'content-type': 'application/octet-stream',
      'x-dx-sha256': createHash('sha256').update(bytes).digest('hex'),
      'x-dx-count': String(count),
      'x-dx-first-seq': String(first),
      'x-dx-last-seq': String(first + count - 1),
    },
    body: bytes,
  });
  if (res.status !== 201) throw new Error(`storing ${client}/${fileSeq}: ${res.status} ${await res.text()}`);
}

/** The gateway's announcement of each stored file: what starts the applier. */
async function announce(stack: Stack, files: Array<{ client: string; fileSeq: number }>): Promise<void> {
  const connection = await connect(process.env.AMQP_URL as string);
  try {
    const channel = await connection.createConfirmChannel();
    for (const f of files) {
      const event = { pattern: 'dx.file.received', data: { ...f, objectKey: '', sha256: '', size: 0 } };
      channel.sendToQueue(`${stack.queuePrefix}.dx.inbox`, Buffer.from(JSON.stringify(event)), {
        persistent: true,
        contentType: 'application/json',
      });
    }
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

/**
 * How long after `lastCommitAt` (a performance.now() time) the capture had every committed change
 * in the log, and the router had routed the log through its end.
 */
async function caughtUp(db: Pool, lastCommitAt: number): Promise<{ capturedMs: number; routedMs: number }> {
  if (!(await captureBarrier(db, { timeoutMs: 300_000 })))
    throw new Error('the capture did not catch up in 300 s');
  const capturedMs = performance.now() - lastCommitAt;
  await waitFor(() => routerCaughtUp(db), {
    timeoutMs: 300_000,
    intervalMs: 50,
    description: 'the router to route every logged change',
  });
  return { capturedMs, routedMs: performance.now() - lastCommitAt };
}

/** The router's outpost_capture_restarts_total. */
async function captureRestarts(stack: Stack): Promise<number> {
  const metrics = await (await fetch(stack.endpoints.router.metrics)).text();
  const restarts = metricSample(metrics, 'outpost_capture_restarts_total');
  if (restarts === undefined) throw new Error('the router does not report outpost_capture_restarts_total');
  return restarts;
}

/**
 * Upload ingest on the server alone: the DX files of N laptops already stored in the inbox, the
 * clock from their announcement to the applier's last commit. The baseline upserts the same rows
 * straight into the same tables, 500 per statement, with nothing reading their changes (no slot).
 */
export const ingestScenario: Scenario = {
  name: 'ingest',
  title: 'upload ingest, server side',
  services: true,
  defaults: { warmup: 1, repetitions: 3 },
  async run(ctx) {
    const total = ctx.sizes.uploadTxns;
    const laptops = Math.min(ctx.sizes.uploadAgents, total);
    // No sweep: only the announcement starts the applier, so the clock sees all of its work.
    const { stack, db } = await ctx.env.stack('ingest', { APPLY_SWEEP_INTERVAL_MS: '3600000' });
    const baseline = await ctx.env.migratedDatabase('ingest_baseline');
    const notes: string[] = [];
    const samples = await repeat(ctx, 'ingest', async (rep) => {
      const tag = `in${rep < 0 ? `w${-rep}` : rep}`;
      const all: BenchRow[] = [];
      const files: Array<{ client: string; fileSeq: number }> = [];
      const names: string[] = [];
      for (let k = 0; k < laptops; k += 1) {
        const client = `${tag}-laptop-${k}`;
        const user = `${tag}-user-${k}`;
        ctx.progress.update(`ingest ${tag}: storing the files of ${client}`);
        await registerClient(stack, client, user);
        names.push(client);
        const share = Math.floor(total / laptops) + (k < total % laptops ? 1 : 0);
        const rows = salesRows(share, user, `${tag}-${k}`);
        all.push(...rows);
        for (let first = 0, fileSeq = 1; first < rows.length; first += PER_FILE, fileSeq += 1) {
          const part = rows.slice(first, first + PER_FILE);
          await store(
            stack,
            client,
            fileSeq,
            await dxFile(client, fileSeq, first + 1, part, user),
            first + 1,
            part.length,
          );
          files.push({ client, fileSeq });
        }
      }
      ctx.progress.update(`ingest ${tag}: applying ${total} transactions`);
      const cpu = stackCpuMeter(stack.queuePrefix, ctx.env.helperPids());
      const started = performance.now();
      await announce(stack, files);
      await waitFor(async () => (await appliedTxns(db, names)) >= total, {
        timeoutMs: Math.max(300_000, total * 10),
        intervalMs: 20,
        description: `the applier to commit ${total} transactions of ${laptops} laptops`,
      });
      const ms = performance.now() - started;
      const usage = cpu.stop();
      // The figure stops at the last commit; the capture and the routing of those rows go on beside
      // the applier on the same cores. How far behind they are then belongs next to it: a capture
      // that falls behind (or keeps restarting) would otherwise make ingest look faster.
      ctx.progress.update(`ingest ${tag}: waiting for the capture and the routing`);
      const { capturedMs, routedMs } = await caughtUp(db, started + ms);
      const restarts = await captureRestarts(stack);
      if (restarts !== 0) throw new Error(`the router's capture restarted ${restarts} time(s): see its log`);
      if (rep >= 0) {
        notes.push(`${tag}: ${describeCpu(usage, ms / 1000)}`);
        notes.push(
          `${tag}: after the last commit, the log complete +${(capturedMs / 1000).toFixed(1)} s, routed +${(routedMs / 1000).toFixed(1)} s ` +
            `(through routing ${Math.round(perSecond(total, ms + routedMs))} txn/s); capture restarts 0`,
        );
      }
      const landed = await countRows(db, all);
      if (landed !== total) throw new Error(`only ${landed} of ${total} rows are in Postgres`);

      ctx.progress.update(`ingest ${tag}: baseline upserts`);
      const baseStarted = performance.now();
      await upsertRows(baseline.db, all, UPSERT_BATCH);
      const baselineMs = performance.now() - baseStarted;
      return { applied: perSecond(total, ms), baseline: perSecond(total, baselineMs) };
    });
    const f = figure(
      { label: 'transactions/s', unit: 'txn/s', higherIsBetter: true },
      samples.map((s) => s.applied),
      {
        label: `the same rows upserted straight into the same tables, ${UPSERT_BATCH} per statement, nothing capturing them`,
        samples: samples.map((s) => s.baseline),
      },
    );
    return {
      sizes: { transactions: total, laptops, transactionsPerFile: PER_FILE },
      figures: [f],
      target: ratioTarget(f, 0.7),
      notes,
    };
  },
};

if (require.main === module) void main([ingestScenario]);
