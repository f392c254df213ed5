import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DxErrorCode, DxFormatError } from './errors';
import { readDxFile } from './reader';
import {
  deleteTx,
  downloadHeader,
  readAll,
  rejection,
  uploadHeader,
  writeToBuffer,
} from './testing/fixtures';
import { DxTransaction } from './types';
import { DxWriter, writeDxFile } from './writer';

async function writeError(header = uploadHeader(), txs: DxTransaction[]) {
  return rejection(writeToBuffer(header, txs));
}

async function pollUntil(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('DxWriter', () => {
  it('refuses an invalid header at construction', () => {
    expect(() => new DxWriter(uploadHeader({ count: 0, firstSeq: 1 }))).toThrow(
      expect.objectContaining({ code: DxErrorCode.InvalidField }),
    );
    expect(() => new DxWriter(uploadHeader({ kind: 'changes' }))).toThrow(
      expect.objectContaining({ code: DxErrorCode.InvalidField }),
    );
    expect(() => new DxWriter({ ...downloadHeader(), epoch: undefined })).toThrow(
      expect.objectContaining({ code: DxErrorCode.MissingField }),
    );
    expect(() => new DxWriter(uploadHeader({ client: 'bad name' }))).toThrow(
      expect.objectContaining({ code: DxErrorCode.InvalidField }),
    );
  });

  it.each([
    [
      'an upsert in an upload file',
      [deleteTx(1), { ...deleteTx(2), op: 'upsert', version: 1, row: {} }],
      DxErrorCode.BadOperation,
      1,
    ],
    [
      'a NaN column value',
      [{ ...deleteTx(1), op: 'insert', base: undefined, row: { n: NaN } }],
      DxErrorCode.InvalidValue,
      0,
    ],
    ['a seq gap', [deleteTx(1), deleteTx(3)], DxErrorCode.SeqGap, 1],
    ['a repeated seq', [deleteTx(1), deleteTx(1)], DxErrorCode.SeqBackwards, 1],
    ['a wrong first seq', [deleteTx(2)], DxErrorCode.HeaderMismatch, 0],
    [
      'more transactions than announced',
      [deleteTx(1), deleteTx(2), deleteTx(3), deleteTx(4)],
      DxErrorCode.CountMismatch,
      3,
    ],
    ['a missing field', [{ ...deleteTx(1), at: undefined }], DxErrorCode.MissingField, 0],
  ])('refuses %s with the code and index of the transaction', async (_what, txs, code, txIndex) => {
    const error = await writeError(uploadHeader(), txs as DxTransaction[]);
    expect(error).toBeInstanceOf(DxFormatError);
    expect({ code: error.code, txIndex: error.txIndex }).toEqual({ code, txIndex });
  });

  it('checks the count against the header at end()', async () => {
    const error = await writeError(uploadHeader(), [deleteTx(1), deleteTx(2)]);
    expect(error.code).toBe(DxErrorCode.CountMismatch);
  });

  it('refuses a line over maxLineBytes, counting UTF-8 bytes', async () => {
    const row = { note: '😀'.repeat(300) };
    const tx = { ...deleteTx(1), op: 'insert', base: undefined, row } as unknown as DxTransaction;
    const error = await rejection(
      writeToBuffer(uploadHeader({ lastSeq: 1, count: 1 }), [tx], { limits: { maxLineBytes: 1000 } }),
    );
    expect(error.code).toBe(DxErrorCode.LineTooLong);
  });

  it('aborts the stream on the first invalid transaction, so a partial file never ends', async () => {
    const writer = new DxWriter(uploadHeader());
    let ended = false;
    writer.stream.on('end', () => (ended = true));
    writer.stream.resume();
    await writer.write(deleteTx(1));
    await expect(writer.write(deleteTx(5))).rejects.toMatchObject({ code: DxErrorCode.SeqGap });
    await pollUntil(() => writer.stream.destroyed, 'the stream is destroyed');
    expect(ended).toBe(false);
    await expect(writer.write(deleteTx(2))).rejects.toThrow(/aborted/);
  });

  it('holds write() while the consumer of the stream is behind (backpressure)', async () => {
    const n = 20_000;
    const writer = new DxWriter(uploadHeader({ firstSeq: 1, lastSeq: n, count: n }));
    const noise = (seq: number) => deleteTx(seq, { user: randomBytes(500).toString('hex') });
    let accepted = 0;
    let waiting = false;
    const writing = (async () => {
      for (let seq = 1; seq <= n; seq++) {
        waiting = true;
        await writer.write(noise(seq));
        waiting = false;
        accepted++;
      }
    })();
    await pollUntil(
      () => waiting && writer.stream.readableLength >= writer.stream.readableHighWaterMark,
      'a write waits on a full output',
    );
    // About 1 KB per transaction: far less than a megabyte was taken in while nobody read.
    expect(accepted).toBeLessThan(1000);

    const chunks: Buffer[] = [];
    writer.stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    await writing;
    const result = await writer.end();
    const { summary } = await readAll(Buffer.concat(chunks));
    expect(summary).toMatchObject({ count: n, sha256: result.sha256, bytes: result.bytes });
  });

  it('rejects write() when the consumer of the stream goes away', async () => {
    const n = 100_000;
    const writer = new DxWriter(uploadHeader({ firstSeq: 1, lastSeq: n, count: n }));
    writer.stream.destroy();
    const error = await rejection(
      (async () => {
        for (let seq = 1; seq <= n; seq++) await writer.write(deleteTx(seq));
      })(),
    );
    expect(error.message).toMatch(/output stream was closed/);
  });

  it('writes an empty download extract', async () => {
    const header = downloadHeader({ kind: 'extract', epoch: 4, firstSeq: 0, lastSeq: 0, count: 0 });
    const { file } = await writeToBuffer(header, []);
    expect(await readAll(file)).toMatchObject({ header, transactions: [] });
  });

  it('appends encoded lines beside written transactions, checking their seqs against the header', async () => {
    const header = downloadHeader({ firstSeq: 1, lastSeq: 3, count: 2 });
    const writer = new DxWriter(header);
    const chunks: Buffer[] = [];
    writer.stream.on('data', (c: Buffer) => chunks.push(c));
    await writer.write(deleteTx(1));
    await writer.writeEncoded(3, JSON.stringify(deleteTx(3)));
    await writer.end();
    expect((await readAll(Buffer.concat(chunks))).transactions).toEqual([deleteTx(1), deleteTx(3)]);

    const backwards = new DxWriter(header);
    backwards.stream.resume();
    await backwards.write(deleteTx(1));
    expect(await rejection(backwards.writeEncoded(1, JSON.stringify(deleteTx(1))))).toMatchObject({
      code: DxErrorCode.SeqBackwards,
    });
    expect(backwards.stream.destroyed).toBe(true);
  });
});

describe('writeDxFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dx-writer-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the file atomically and returns the sha256 and size of its bytes', async () => {
    const path = join(dir, '000000000001.dx');
    async function* txs() {
      for (let seq = 1; seq <= 3; seq++) yield deleteTx(seq);
    }
    const result = await writeDxFile(path, uploadHeader(), txs());
    expect(readdirSync(dir)).toEqual(['000000000001.dx']);
    expect(result.bytes).toBe(readFileSync(path).length);
    const reader = readDxFile(path);
    const seqs: number[] = [];
    for await (const tx of reader) seqs.push(tx.seq);
    expect(seqs).toEqual([1, 2, 3]);
    expect(reader.summary().sha256).toBe(result.sha256);
  });

  it('leaves neither the file nor its temporary file behind when a transaction is invalid', async () => {
    const path = join(dir, 'bad.dx');
    const error = await rejection(writeDxFile(path, uploadHeader(), [deleteTx(1), deleteTx(3)]));
    expect(error).toMatchObject({ code: DxErrorCode.SeqGap, txIndex: 1 });
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
