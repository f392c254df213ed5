import { createHash, Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, Gzip } from 'node:zlib';
import { DxErrorCode, DxFormatError } from './errors';
import { DxLimits, resolveLimits } from './limits';
import { DxHeader, DxTransaction } from './types';
import { checkHeader, checkTransaction, SeqTracker } from './validate';

export interface DxWriterOptions {
  /**
   * gzip level 1-9. Default 3: on DX content it deflates about as fast as level 1 (~280 MB/s) and within
   * 4% of level 6's size, which costs 70% more CPU (measurements in the README).
   */
  level?: number;
  /** The writer refuses to produce a file that a reader with these limits would refuse (line and size limits). */
  limits?: Partial<DxLimits>;
}

/** The file as stored: checksum and size of the compressed bytes. */
export interface DxWriteResult {
  sha256: string;
  bytes: number;
}

export const DEFAULT_GZIP_LEVEL = 3;
/** Lines are batched into one gzip write per ~64 KiB: a zlib call per line would dominate the cost. */
const BATCH_CHARS = 64 * 1024;
const RESOLVED = Promise.resolve();

type WriterState = 'open' | 'ending' | 'ended' | 'failed';

/**
 * Streams one DX file. Pipe `stream` somewhere (a file, an HTTP body) before writing; `write()` resolves
 * when the transaction is accepted and waits while the consumer of `stream` is behind. Every transaction
 * is validated as it is written; the first DxFormatError aborts the file (`stream` is destroyed and never
 * ends, so whatever consumes it does not mistake a partial file for a complete one).
 */
export class DxWriter {
  /** The compressed file bytes. */
  readonly stream: Readable;

  private readonly header: DxHeader;
  private readonly limits: DxLimits;
  private readonly gzip: Gzip;
  private readonly contentHash: Hash = createHash('sha256');
  private readonly fileHash: Hash = createHash('sha256');
  private readonly tracker: SeqTracker;
  private readonly finished: Promise<DxWriteResult>;
  private pending: string;
  private contentBytes = 0;
  private fileBytes = 0;
  private state: WriterState = 'open';

  constructor(header: DxHeader, opts: DxWriterOptions = {}) {
    this.header = checkHeader(header);
    this.limits = resolveLimits(opts.limits);
    this.tracker = new SeqTracker(this.header);
    this.pending = JSON.stringify(this.header) + '\n';
    this.gzip = createGzip({ level: opts.level ?? DEFAULT_GZIP_LEVEL, chunkSize: 64 * 1024 });
    const fileHash = this.fileHash;
    const meter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        fileHash.update(chunk);
        this.fileBytes += chunk.length;
        callback(null, chunk);
      },
    });
    this.stream = meter;
    this.finished = pipeline(this.gzip, meter).then(() => ({
      sha256: fileHash.digest('hex'),
      bytes: this.fileBytes,
    }));
    // Awaited only by end(); when the file is aborted nobody awaits it.
    this.finished.catch(() => undefined);
  }

  /** Validates and appends one transaction. Await it: the promise also carries backpressure. */
  write(tx: DxTransaction): Promise<void> {
    if (this.state !== 'open') return Promise.reject(this.closedError('write'));
    if (this.gzip.destroyed) return Promise.reject(this.consumerGoneError());
    const txIndex = this.tracker.count;
    let line: string;
    try {
      checkTransaction(tx, this.header.direction, txIndex);
      line = JSON.stringify(tx);
    } catch (error) {
      this.abort();
      return Promise.reject(error);
    }
    return this.append(tx.seq, line, txIndex);
  }

  /**
   * Appends one transaction its producer has already encoded as a JSON line (without the newline),
   * for bulk producers such as the server's extract, where parsing and re-serialising every row would
   * cost more than everything else. Checked here: the seq order against the header and the size
   * limits; the producer answers for the line being a valid transaction of this file (its encoder has
   * a spec against `checkTransaction`), and every reader validates each line it reads.
   */
  writeEncoded(seq: number, line: string): Promise<void> {
    if (this.state !== 'open') return Promise.reject(this.closedError('write'));
    if (this.gzip.destroyed) return Promise.reject(this.consumerGoneError());
    return this.append(seq, line, this.tracker.count);
  }

  private append(seq: number, line: string, txIndex: number): Promise<void> {
    try {
      this.tracker.next(seq, txIndex);
      // A line's UTF-8 size is at most 3 bytes per UTF-16 unit: only long lines need measuring.
      if (
        line.length * 3 >= this.limits.maxLineBytes &&
        Buffer.byteLength(line) + 1 > this.limits.maxLineBytes
      ) {
        throw new DxFormatError(
          DxErrorCode.LineTooLong,
          `the transaction encodes to ${Buffer.byteLength(line) + 1} bytes, over the ${this.limits.maxLineBytes}-byte line limit`,
          { txIndex },
        );
      }
    } catch (error) {
      this.abort();
      return Promise.reject(error);
    }
    this.pending += line;
    this.pending += '\n';
    return this.pending.length >= BATCH_CHARS ? this.flush() : RESOLVED;
  }

  /**
   * Checks the transaction count and seq range against the header, appends the trailer and finishes the
   * gzip stream. Resolves once all of `stream` has been produced, with the compressed file's sha256 and size.
   */
  async end(): Promise<DxWriteResult> {
    if (this.state !== 'open') throw this.closedError('end');
    this.state = 'ending';
    try {
      this.tracker.finish();
      await this.flush();
    } catch (error) {
      this.abort();
      throw error;
    }
    const trailer = { trailer: true, count: this.tracker.count, sha256: this.contentHash.digest('hex') };
    this.gzip.end(JSON.stringify(trailer) + '\n');
    const result = await this.finished;
    this.state = 'ended';
    return result;
  }

  /** Abandons the file: `stream` is destroyed without ending. */
  abort(): void {
    if (this.state === 'ended' || this.state === 'failed') return;
    this.state = 'failed';
    this.stream.destroy();
  }

  private flush(): Promise<void> {
    if (this.pending.length === 0) return RESOLVED;
    const chunk = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    this.contentBytes += chunk.length;
    if (this.contentBytes > this.limits.maxDecompressedBytes) {
      this.abort();
      return Promise.reject(
        new DxFormatError(
          DxErrorCode.TooLarge,
          `the content exceeds the ${this.limits.maxDecompressedBytes}-byte limit`,
          {
            txIndex: this.tracker.count - 1,
          },
        ),
      );
    }
    this.contentHash.update(chunk);
    if (this.gzip.write(chunk)) return RESOLVED;
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.gzip.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        this.gzip.off('drain', onDrain);
        reject(this.consumerGoneError());
      };
      this.gzip.once('drain', onDrain);
      this.gzip.once('close', onClose);
    });
  }

  private closedError(call: string): Error {
    return new Error(
      `DxWriter.${call}() called after the file was ${this.state === 'failed' ? 'aborted' : 'ended'}`,
    );
  }

  private consumerGoneError(): Error {
    return new Error(
      'the DX output stream was closed before the file was complete: its consumer stopped or failed',
    );
  }
}

/**
 * Writes a DX file atomically: to `path + '.tmp'`, fsynced, then renamed over `path` (and the directory
 * fsynced where the platform allows), so `path` never holds a partial file. The temporary file is removed on failure.
 */
export async function writeDxFile(
  path: string,
  header: DxHeader,
  txs: Iterable<DxTransaction> | AsyncIterable<DxTransaction>,
  opts?: DxWriterOptions,
): Promise<DxWriteResult> {
  const tmp = `${path}.tmp`;
  const writer = new DxWriter(header, opts);
  // flush: the file is fsynced before it is closed, so the rename below publishes complete bytes.
  const copied = pipeline(writer.stream, createWriteStream(tmp, { flush: true }));
  copied.catch(() => undefined);
  let result: DxWriteResult;
  try {
    for await (const tx of txs) await writer.write(tx);
    result = await writer.end();
    await copied;
  } catch (error) {
    writer.abort();
    await copied.catch(() => undefined);
    await rm(tmp, { force: true });
    throw error;
  }
  await rename(tmp, path);
  await syncDirectory(dirname(path));
  return result;
}

/** Makes the rename durable. Windows cannot open a directory for fsync; NTFS journals the rename itself. */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
