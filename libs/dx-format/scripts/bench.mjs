#!/usr/bin/env node
/* global console */
/*
 * Rough encode/decode throughput of small transactions, in memory (no disk):
 *   npx tsc -b libs/dx-format && node libs/dx-format/scripts/bench.mjs [count] [gzip level]
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { Readable } from 'node:stream';

const { DxReader, DxWriter } = createRequire(import.meta.url)('../dist/index.js');
const n = Number(process.argv[2] ?? 100_000);
const level = process.argv[3] === undefined ? undefined : Number(process.argv[3]);

function transaction(i) {
  const common = {
    seq: i + 1,
    at: '2024-05-01T10:00:00.123Z',
    user: 'alice',
    table: 'opportunity',
    id: randomUUID(),
  };
  return i % 2
    ? {
        ...common,
        op: 'update',
        base: i,
        changes: {
          stage: { old: 'prospect', new: 'closed' },
          amount: { old: { $dec: '1250.00' }, new: { $dec: `${i}.50` } },
        },
      }
    : {
        ...common,
        op: 'insert',
        row: {
          id: common.id,
          name: `Deal ${i}`,
          account_id: randomUUID(),
          owner: 'alice',
          amount: { $dec: `${i}.00` },
          close_date: { $date: '2024-06-30' },
          probability: 40,
          won: false,
        },
      };
}

const txs = Array.from({ length: n }, (_, i) => transaction(i));
const header = {
  format: 'outpost-dx',
  version: 1,
  client: 'bench',
  fileSeq: 1,
  direction: 'upload',
  firstSeq: 1,
  lastSeq: n,
  count: n,
  createdAt: new Date().toISOString(),
};

const cpuMs = (usage) => (usage.user + usage.system) / 1000;
const rate = (ms) => Math.round((n / ms) * 1000).toLocaleString('en');

/** Three rounds: the first includes JIT warm-up, the later ones show the steady state. */
for (let round = 1; round <= 3; round++) {
  let start = performance.now();
  let cpu = process.cpuUsage();
  const writer = new DxWriter(header, { level });
  const chunks = [];
  writer.stream.on('data', (chunk) => chunks.push(chunk));
  for (const tx of txs) await writer.write(tx);
  const written = await writer.end();
  const encode = { ms: performance.now() - start, cpu: cpuMs(process.cpuUsage(cpu)) };

  start = performance.now();
  cpu = process.cpuUsage();
  const reader = DxReader.open(Readable.from(chunks));
  let count = 0;
  const transactions = reader[Symbol.asyncIterator]();
  while (!(await transactions.next()).done) count++;
  const decode = { ms: performance.now() - start, cpu: cpuMs(process.cpuUsage(cpu)) };
  const { contentBytes } = reader.summary();

  if (round === 1) {
    const ratio = (contentBytes / written.bytes).toFixed(1);
    console.log(
      `${count} transactions, ${(contentBytes / 1e6).toFixed(1)} MB content -> ${(written.bytes / 1e6).toFixed(2)} MB gzip (level ${level ?? 'default'}, ${ratio}:1)`,
    );
  }
  console.log(
    `round ${round}: encode ${encode.ms.toFixed(0)} ms (${encode.cpu.toFixed(0)} ms CPU) ${rate(encode.ms)} tx/s; ` +
      `decode ${decode.ms.toFixed(0)} ms (${decode.cpu.toFixed(0)} ms CPU) ${rate(decode.ms)} tx/s`,
  );
}
