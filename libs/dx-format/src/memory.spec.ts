import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DxReader } from './reader';
import { CONTACT_ID, uploadHeader } from './testing/fixtures';
import { DxTransaction } from './types';
import { DxWriter } from './writer';

const MiB = 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Live heap and Buffer memory after a full collection, so garbage awaiting collection is not counted. */
function liveMemory(): { heap: number; buffers: number } {
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heap: heapUsed, buffers: arrayBuffers };
}

/**
 * Streams `totalBytes` of transactions from a writer straight into a reader, never holding the file,
 * and returns the largest growth of live heap and Buffer memory seen along the way.
 */
async function streamThrough(totalBytes: number) {
  const pool = Array.from({ length: 64 }, () => randomBytes(7500).toString('base64'));
  const n = Math.ceil(totalBytes / 10_000);
  const tx = (seq: number): DxTransaction => ({
    seq,
    at: '2024-04-30T09:00:00.000Z',
    user: 'alice',
    table: 'account',
    id: CONTACT_ID,
    op: 'insert',
    row: { blob: pool[seq % pool.length], seq },
  });
  const baseline = liveMemory();
  let peakHeap = 0;
  let peakBuffers = 0;
  const sample = () => {
    const now = liveMemory();
    peakHeap = Math.max(peakHeap, now.heap - baseline.heap);
    peakBuffers = Math.max(peakBuffers, now.buffers - baseline.buffers);
  };

  const writer = new DxWriter(uploadHeader({ firstSeq: 1, lastSeq: n, count: n }), { level: 1 });
  const reader = DxReader.open(writer.stream);
  const writing = (async () => {
    for (let seq = 1; seq <= n; seq++) await writer.write(tx(seq));
    return writer.end();
  })();
  let read = 0;
  for await (const got of reader) {
    if (got.seq !== ++read) throw new Error(`expected seq ${read}, read ${got.seq}`);
    if (read % 2000 === 0) sample();
  }
  sample();
  const written = await writing;
  return { n, read, peakHeap, peakBuffers, written, summary: reader.summary() };
}

describe('bounded memory', () => {
  it('streams ~200 MB of content from writer to reader with little live memory', async () => {
    const result = await streamThrough(200 * MiB);
    expect(result.read).toBe(result.n);
    expect(result.summary.contentBytes).toBeGreaterThan(200 * MiB);
    expect(result.summary.sha256).toBe(result.written.sha256);
    expect(result.peakHeap).toBeLessThan(64 * MiB);
    expect(result.peakBuffers).toBeLessThan(64 * MiB);
  }, 120_000);

  (process.env.DX_BIG_TEST === '1' ? it : it.skip)(
    'streams ~1 GB of content from writer to reader with little live memory (DX_BIG_TEST=1)',
    async () => {
      const result = await streamThrough(1024 * MiB);
      expect(result.read).toBe(result.n);
      expect(result.summary.contentBytes).toBeGreaterThan(1024 * MiB);
      expect(result.peakHeap).toBeLessThan(64 * MiB);
      expect(result.peakBuffers).toBeLessThan(64 * MiB);
    },
    600_000,
  );
});
