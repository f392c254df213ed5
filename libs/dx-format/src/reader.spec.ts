import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { DxErrorCode, DxFormatError } from './errors';
import { DxReader, validateDx } from './reader';
import {
  CONTACT_ID,
  deleteTx,
  readAll,
  rawFile,
  rejection,
  trickle,
  uploadHeader,
  writeToBuffer,
} from './testing/fixtures';
import { DxTransaction } from './types';

const MiB = 1024 * 1024;

async function pollUntil(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A Readable over `pieces` that counts how many bytes the reader actually pulled. */
function countingInput(pieces: Buffer[]): { input: Readable; pulled: () => number } {
  let pulled = 0;
  let next = 0;
  const input = new Readable({
    highWaterMark: 16 * 1024,
    read() {
      if (next === pieces.length) return void this.push(null);
      pulled += pieces[next].length;
      this.push(pieces[next++]);
    },
  });
  return { input, pulled: () => pulled };
}

function insertTx(seq: number, row: Record<string, unknown>): DxTransaction {
  return {
    seq,
    at: '2024-04-30T09:00:00.000Z',
    user: 'alice',
    table: 'account',
    id: CONTACT_ID,
    op: 'insert',
    row,
  } as DxTransaction;
}

describe('DxReader', () => {
  it('yields the transactions before an invalid one, then throws with its index and offset', async () => {
    const header = uploadHeader({ lastSeq: 4, count: 4 });
    const reader = DxReader.open(
      Readable.from([
        rawFile([header, deleteTx(1), deleteTx(2), { ...deleteTx(3), base: 'x' }, deleteTx(4)]),
      ]),
    );
    const seen: number[] = [];
    const error = await rejection(
      (async () => {
        for await (const tx of reader) seen.push(tx.seq);
      })(),
    );
    expect(seen).toEqual([1, 2]);
    expect(error).toBeInstanceOf(DxFormatError);
    const firstLines = [header, deleteTx(1), deleteTx(2)].map((l) => JSON.stringify(l) + '\n').join('');
    expect(error).toMatchObject({
      code: DxErrorCode.InvalidField,
      txIndex: 2,
      byteOffset: Buffer.byteLength(firstLines),
    });
    expect(error.message).toMatch(/"base".*transaction #2.*byte offset/);
  });

  it('decodes input that arrives a few bytes at a time, and lines that span decompressed chunks', async () => {
    const wide = '😀é東'.repeat(30_000);
    const txs = [insertTx(1, { wide }), insertTx(2, { wide: wide.slice(2) }), insertTx(3, { small: '' })];
    const { file, sha256 } = await writeToBuffer(uploadHeader(), txs);
    for (const size of [1, 7, 4096]) {
      const { transactions, summary } = await readAll(trickle(file, size));
      expect(transactions).toEqual(txs);
      expect(summary.sha256).toBe(sha256);
    }
  });

  it('refuses invalid UTF-8 in a line that spans decompressed chunks', async () => {
    const line = Buffer.from(JSON.stringify(insertTx(1, { blob: 'x'.repeat(200_000) })));
    line[100_000] = 0xff;
    const header = Buffer.from(JSON.stringify(uploadHeader({ lastSeq: 1, count: 1 })) + '\n');
    const file = gzipSync(Buffer.concat([header, line, Buffer.from('\n')]));
    await expect(validateDx(Readable.from([file]))).rejects.toMatchObject({
      code: DxErrorCode.MalformedJson,
      txIndex: 0,
    });
  });

  it('refuses a line over maxLineBytes before the line ends', async () => {
    const { file } = await writeToBuffer(uploadHeader({ lastSeq: 2, count: 2 }), [
      deleteTx(1),
      insertTx(2, { blob: 'y'.repeat(5 * MiB) }),
    ]);
    await expect(validateDx(Readable.from([file]), { maxLineBytes: 64 * 1024 })).rejects.toMatchObject({
      code: DxErrorCode.LineTooLong,
      txIndex: 1,
    });
  });

  it('refuses content over maxDecompressedBytes', async () => {
    const n = 2000;
    const { file } = await writeToBuffer(
      uploadHeader({ lastSeq: n, count: n }),
      Array.from({ length: n }, (_, i) => deleteTx(i + 1)),
    );
    const error = await rejection(validateDx(Readable.from([file]), { maxDecompressedBytes: 100_000 }));
    expect(error).toMatchObject({ code: DxErrorCode.TooLarge });
    expect(error.byteOffset).toBeLessThanOrEqual(100_000);
  });

  it('refuses a gzip bomb after reading a bounded part of it', async () => {
    // 10 GiB of plausible lines (15 MiB each) in about 10 MB: concatenated gzip members, one per 1.5 MiB piece.
    const header = gzipSync(JSON.stringify(uploadHeader({ lastSeq: 700, count: 700 })) + '\n');
    const piece = gzipSync('a'.repeat(1.5 * MiB), { level: 9 });
    const pieces: Buffer[] = [header];
    for (let seq = 1; seq <= 700; seq++) {
      const [open, close] = JSON.stringify(insertTx(seq, { blob: '@' })).split('@');
      pieces.push(gzipSync(open));
      for (let i = 0; i < 10; i++) pieces.push(piece);
      pieces.push(gzipSync(close + '\n'));
    }
    const total = pieces.reduce((sum, p) => sum + p.length, 0);
    const { input, pulled } = countingInput(pieces);
    const error = await rejection(validateDx(input));
    expect(error).toMatchObject({ code: DxErrorCode.TooLarge });
    expect(error.byteOffset).toBeLessThan(64 * MiB);
    expect(pulled()).toBeLessThan(total / 50);
    await pollUntil(() => input.destroyed, 'the input is released');
  });

  it('passes the input stream errors through unchanged', async () => {
    const failure = Object.assign(new Error('disk on fire'), { code: 'EIO' });
    const input = new Readable({
      read() {
        this.destroy(failure);
      },
    });
    await expect(validateDx(input)).rejects.toBe(failure);
  });

  it('releases the input when the consumer stops early or closes after the header', async () => {
    const n = 50_000;
    const { file } = await writeToBuffer(
      uploadHeader({ lastSeq: n, count: n }),
      Array.from({ length: n }, (_, i) => deleteTx(i + 1)),
    );
    const first = trickle(file, 1024);
    for await (const tx of DxReader.open(first)) {
      expect(tx.seq).toBe(1);
      break;
    }
    await pollUntil(() => first.destroyed, 'the input is released after break');

    const second = trickle(file, 1024);
    const reader = DxReader.open(second);
    expect((await reader.header()).count).toBe(n);
    await reader.close();
    await pollUntil(() => second.destroyed, 'the input is released after close');
    expect(() => reader.summary()).toThrow(/once iteration has completed/);
  });

  it('yields the transactions in batches, in order, and releases the input when stopped after the first', async () => {
    const n = 20_000;
    const txs = Array.from({ length: n }, (_, i) => deleteTx(i + 1));
    const { file } = await writeToBuffer(uploadHeader({ lastSeq: n, count: n }), txs);
    const reader = DxReader.open(Readable.from([file]));
    const batches: DxTransaction[][] = [];
    for await (const batch of reader.batches()) batches.push(batch);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(txs);
    expect(reader.summary().count).toBe(n);

    const input = trickle(file, 1024);
    for await (const batch of DxReader.open(input).batches()) {
      expect(batch[0].seq).toBe(1);
      break;
    }
    await pollUntil(() => input.destroyed, 'the input is released after the first batch');
  });

  it('refuses a second iteration', async () => {
    const { file } = await writeToBuffer(uploadHeader(), [deleteTx(1), deleteTx(2), deleteTx(3)]);
    const reader = DxReader.open(Readable.from([file]));
    for await (const _ of reader);
    expect(reader.summary().count).toBe(3);
    await expect(reader[Symbol.asyncIterator]().next()).rejects.toThrow(/iterated once/);
  });
});
