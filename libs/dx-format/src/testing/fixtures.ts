/** Builders shared by this package's specs (excluded from the build). */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { DxReader } from '../reader';
import { DxHeader, DxTransaction } from '../types';
import { DxWriter, DxWriterOptions } from '../writer';

export const CONTACT_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

export function uploadHeader(overrides: Partial<DxHeader> = {}): DxHeader {
  return {
    format: 'outpost-dx',
    version: 1,
    client: 'laptop-1',
    fileSeq: 1,
    direction: 'upload',
    firstSeq: 1,
    lastSeq: 3,
    count: 3,
    createdAt: '2024-05-01T08:00:00.000Z',
    ...overrides,
  };
}

export function downloadHeader(overrides: Partial<DxHeader> = {}): DxHeader {
  return uploadHeader({ direction: 'download', kind: 'changes', epoch: 1, ...overrides });
}

export function deleteTx(seq: number, overrides: Record<string, unknown> = {}): DxTransaction {
  return {
    seq,
    at: '2024-04-30T09:00:00.000Z',
    user: 'alice',
    table: 'contact',
    id: CONTACT_ID,
    op: 'delete',
    base: 1,
    ...overrides,
  } as DxTransaction;
}

/** Content lines with a correct trailer, gzipped: for inputs the writer refuses to produce. */
export function rawFile(lines: (object | string)[], trailer: Record<string, unknown> = {}): Buffer {
  const body = Buffer.from(lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l)) + '\n').join(''));
  const sha256 = createHash('sha256').update(body).digest('hex');
  const end = JSON.stringify({ trailer: true, count: lines.length - 1, sha256, ...trailer }) + '\n';
  return gzipSync(Buffer.concat([body, Buffer.from(end)]));
}

export async function writeToBuffer(
  header: DxHeader,
  txs: Iterable<DxTransaction>,
  opts?: DxWriterOptions,
): Promise<{ file: Buffer; sha256: string; bytes: number }> {
  const writer = new DxWriter(header, opts);
  const chunks: Buffer[] = [];
  writer.stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  for (const tx of txs) await writer.write(tx);
  const result = await writer.end();
  return { file: Buffer.concat(chunks), ...result };
}

export async function readAll(input: Readable | Buffer, limits?: Parameters<typeof DxReader.open>[1]) {
  const reader = DxReader.open(Buffer.isBuffer(input) ? Readable.from([input]) : input, limits);
  const header = await reader.header();
  const transactions: DxTransaction[] = [];
  for await (const tx of reader) transactions.push(tx);
  return { header, transactions, summary: reader.summary() };
}

/** Resolves with the error a promise rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** Feeds a buffer in small pieces, so lines and multi-byte characters straddle chunk boundaries. */
export function trickle(buf: Buffer, size: number): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) pieces.push(buf.subarray(i, i + size));
  return Readable.from(pieces);
}
