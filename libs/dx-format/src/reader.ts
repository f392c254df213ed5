import { isUtf8 } from 'node:buffer';
import { createHash, Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { createGunzip, Gunzip } from 'node:zlib';
import { DxErrorCode, DxFormatError } from './errors';
import { DxLimits, resolveLimits } from './limits';
import { DxHeader, DxTransaction } from './types';
import { checkHeader, checkTrailer, checkTransaction, isObject, SeqTracker } from './validate';

const NEWLINE = 0x0a;

/** What a fully read file looked like; available once iteration has completed. */
export interface DxReadSummary {
  header: DxHeader;
  /** Number of transactions. */
  count: number;
  /** sha256 (hex) and size of the compressed bytes read: what the server stores and compares. */
  sha256: string;
  bytes: number;
  /** Size of the uncompressed content, trailer included. */
  contentBytes: number;
}

/**
 * Reads one DX file from a stream of its compressed bytes, in bounded memory: the gzip stream and the
 * lines are processed as they arrive, and only the current line is held.
 *
 * Transactions are yielded as they are decoded, before the checksum at the end of the file can be
 * checked: treat what you read as valid only once iteration has completed without an error.
 * A reader is single-pass.
 */
export class DxReader implements AsyncIterable<DxTransaction> {
  private readonly limits: DxLimits;
  private readonly gunzip: Gunzip;
  private readonly fileHash: Hash = createHash('sha256');
  private readonly contentHash: Hash = createHash('sha256');
  private readonly records: AsyncGenerator<(DxHeader | DxTransaction)[], void>;
  private headerPromise?: Promise<DxHeader>;
  /** Transactions decoded with the header, in the same chunk: the first batch. */
  private firstTransactions: DxTransaction[] = [];
  private iterated = false;
  private fileBytes = 0;
  private summaryValue?: DxReadSummary;

  // Line splitting state.
  private readonly parts: Buffer[] = [];
  private partBytes = 0;
  private lineStart = 0;
  private lineIndex = 0;
  private contentBytes = 0;
  private head?: DxHeader;
  private tracker?: SeqTracker;
  private trailerSeen = false;
  private batch: (DxHeader | DxTransaction)[] = [];
  private deferredError?: unknown;
  private trailer?: Record<string, unknown>;

  private constructor(input: Readable, limits?: Partial<DxLimits>) {
    this.limits = resolveLimits(limits);
    this.gunzip = createGunzip({ chunkSize: 64 * 1024 });
    input.on('data', (chunk: Buffer) => {
      this.fileHash.update(chunk);
      this.fileBytes += chunk.length;
    });
    // Errors surface through the gunzip iterator below; a consumer that stops early ends the pipeline.
    pipeline(input, this.gunzip, () => undefined);
    this.records = this.decode();
  }

  static open(input: Readable, limits?: Partial<DxLimits>): DxReader {
    return new DxReader(input, limits);
  }

  /** The header line, validated. */
  header(): Promise<DxHeader> {
    this.headerPromise ??= this.records.next().then((first) => {
      if (first.done)
        throw new DxFormatError(DxErrorCode.Truncated, 'the file has no header line', { byteOffset: 0 });
      this.firstTransactions = first.value.slice(1) as DxTransaction[];
      return first.value[0] as DxHeader;
    });
    return this.headerPromise;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<DxTransaction, void> {
    for await (const batch of this.batches()) yield* batch;
  }

  /**
   * The transactions in batches (those of one decompressed chunk, up to 64 KiB of lines), for a
   * consumer that handles many per await: an await per transaction costs more than checking it.
   * Same guarantees as iterating the reader, which it replaces: single-pass, errors deferred.
   */
  async *batches(): AsyncGenerator<DxTransaction[], void> {
    if (this.iterated) throw new Error('a DxReader can be iterated once only; open the file again');
    this.iterated = true;
    try {
      await this.header();
      if (this.firstTransactions.length > 0) yield this.firstTransactions;
      this.firstTransactions = [];
      yield* this.records as AsyncGenerator<DxTransaction[], void>;
    } finally {
      // A consumer that stops at the first batch never reached the delegation that would release the input.
      await this.records.return();
    }
  }

  /**
   * Uncompressed bytes decoded so far (lines of the batches yielded, and at most one chunk more):
   * what a consumer that groups transactions holds in memory, to bound its groups by bytes.
   */
  get decodedBytes(): number {
    return this.contentBytes;
  }

  /** Stops reading and releases the input, for a caller that needs only part of the file (such as the header). */
  async close(): Promise<void> {
    await this.records.return();
    this.gunzip.destroy();
  }

  /** Counts, checksums and sizes of the whole file; throws until iteration has completed. */
  summary(): DxReadSummary {
    if (!this.summaryValue) throw new Error('DxReader.summary() is available once iteration has completed');
    return this.summaryValue;
  }

  /** Yields the records decoded from each chunk; the first non-empty batch starts with the header. */
  private async *decode(): AsyncGenerator<(DxHeader | DxTransaction)[], void> {
    try {
      for await (const chunk of this.gunzip as AsyncIterable<Buffer>) {
        this.checkSize(chunk.length);
        this.splitLines(chunk);
        if (this.batch.length > 0) {
          const batch = this.batch;
          this.batch = [];
          yield batch;
        }
        if (this.deferredError) throw this.deferredError;
      }
    } catch (error) {
      throw this.translateGzipError(error);
    } finally {
      this.gunzip.destroy();
    }
    this.finish();
  }

  private checkSize(chunkBytes: number): void {
    const total = this.contentBytes + chunkBytes;
    const { maxDecompressedBytes, maxCompressionRatio, ratioCheckAfterBytes } = this.limits;
    if (total > maxDecompressedBytes) {
      throw new DxFormatError(
        DxErrorCode.TooLarge,
        `the content exceeds the ${maxDecompressedBytes}-byte limit`,
        {
          byteOffset: this.contentBytes,
        },
      );
    }
    // bytesWritten counts the compressed bytes zlib has consumed so far, not what is queued for it.
    if (total > ratioCheckAfterBytes && total > maxCompressionRatio * Math.max(this.gunzip.bytesWritten, 1)) {
      throw new DxFormatError(
        DxErrorCode.TooLarge,
        `${total} uncompressed bytes came from ${this.gunzip.bytesWritten} compressed bytes, over the ${maxCompressionRatio}:1 ratio limit (a gzip bomb?)`,
        { byteOffset: this.contentBytes },
      );
    }
  }

  /**
   * Splits a decompressed chunk into lines and decodes the complete ones into `batch`. Bytes of complete
   * lines are hashed per chunk, not per line; a line that spans chunks is assembled and hashed on its own.
   * An error is deferred until the lines before it have been yielded.
   */
  private splitLines(chunk: Buffer): void {
    const chunkOffset = this.contentBytes;
    this.contentBytes += chunk.length;
    let start = 0;
    let hashFrom = 0;
    try {
      if (this.trailerSeen) throw this.trailingData(chunkOffset);
      let newline = chunk.indexOf(NEWLINE);
      if (this.partBytes > 0) {
        if (newline === -1) return this.appendPart(chunk, chunkOffset);
        const length = this.partBytes + newline + 1;
        this.checkLineLength(length);
        this.parts.push(chunk.subarray(0, newline + 1));
        const line = Buffer.concat(this.parts, length);
        this.parts.length = 0;
        this.partBytes = 0;
        start = hashFrom = newline + 1;
        if (!this.decodeLine(line, 0, length - 1, true)) return this.endAtTrailer(chunk, start, chunkOffset);
        this.contentHash.update(line);
        newline = chunk.indexOf(NEWLINE, start);
      }
      const lastNewline = chunk.lastIndexOf(NEWLINE);
      const checkEachLine = lastNewline >= start && !isUtf8(chunk.subarray(start, lastNewline + 1));
      while (newline !== -1) {
        this.lineStart = chunkOffset + start;
        this.checkLineLength(newline + 1 - start);
        if (!this.decodeLine(chunk, start, newline, checkEachLine)) {
          this.contentHash.update(chunk.subarray(hashFrom, start));
          return this.endAtTrailer(chunk, newline + 1, chunkOffset);
        }
        start = newline + 1;
        newline = chunk.indexOf(NEWLINE, start);
      }
      this.contentHash.update(chunk.subarray(hashFrom, start));
      if (start < chunk.length) this.appendPart(chunk.subarray(start), chunkOffset + start);
    } catch (error) {
      this.deferredError = error;
    }
  }

  private appendPart(part: Buffer, offset: number): void {
    if (this.partBytes === 0) this.lineStart = offset;
    this.partBytes += part.length;
    this.checkLineLength(this.partBytes);
    this.parts.push(part);
  }

  private endAtTrailer(chunk: Buffer, after: number, chunkOffset: number): void {
    this.verifyTrailer();
    if (after < chunk.length) throw this.trailingData(chunkOffset + after);
  }

  private checkLineLength(bytes: number): void {
    if (bytes > this.limits.maxLineBytes) {
      throw new DxFormatError(
        DxErrorCode.LineTooLong,
        `line ${this.lineIndex + 1} is longer than the ${this.limits.maxLineBytes}-byte limit`,
        this.where(this.lineIndex),
      );
    }
  }

  /** Decodes the line in buf[start, end) and queues it; returns false when it is the trailer. */
  private decodeLine(buf: Buffer, start: number, end: number, checkUtf8: boolean): boolean {
    const index = this.lineIndex++;
    if (checkUtf8 && !isUtf8(buf.subarray(start, end))) {
      throw new DxFormatError(
        DxErrorCode.MalformedJson,
        `line ${index + 1} is not valid UTF-8`,
        this.where(index),
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8', start, end));
    } catch (error) {
      const code = index === 0 ? DxErrorCode.UnknownFormat : DxErrorCode.MalformedJson;
      throw new DxFormatError(
        code,
        `line ${index + 1} is not JSON (${(error as Error).message})`,
        this.where(index),
      );
    }
    if (index === 0) {
      this.head = checkHeader(value);
      this.tracker = new SeqTracker(this.head);
      this.batch.push(this.head);
      return true;
    }
    if (isObject(value) && 'trailer' in value) {
      this.trailer = value;
      return false;
    }
    checkTransaction(value, this.head!.direction, index - 1, this.lineStart);
    this.tracker!.next(value.seq, index - 1, this.lineStart);
    this.batch.push(value);
    return true;
  }

  private verifyTrailer(): void {
    this.trailerSeen = true;
    const trailer = checkTrailer(this.trailer!, this.lineStart);
    const at = { byteOffset: this.lineStart };
    const actual = this.contentHash.digest('hex');
    if (trailer.sha256 !== actual) {
      throw new DxFormatError(
        DxErrorCode.BadChecksum,
        `the content's sha256 is ${actual} but the trailer says ${trailer.sha256}`,
        at,
      );
    }
    if (trailer.count !== this.tracker!.count) {
      throw new DxFormatError(
        DxErrorCode.CountMismatch,
        `the trailer counts ${trailer.count} transactions but the file has ${this.tracker!.count}`,
        at,
      );
    }
    this.tracker!.finish(this.lineStart);
  }

  private finish(): void {
    if (this.partBytes > 0 && this.trailerSeen) throw this.trailingData(this.contentBytes - this.partBytes);
    if (!this.trailerSeen) {
      const what =
        this.lineIndex === 0
          ? 'the file is empty'
          : `the content ends after line ${this.lineIndex} without a trailer line`;
      throw new DxFormatError(DxErrorCode.Truncated, what, { byteOffset: this.contentBytes });
    }
    this.summaryValue = {
      header: this.head!,
      count: this.tracker!.count,
      sha256: this.fileHash.digest('hex'),
      bytes: this.fileBytes,
      contentBytes: this.contentBytes,
    };
  }

  private trailingData(byteOffset: number): DxFormatError {
    return new DxFormatError(DxErrorCode.TrailingData, 'content follows the trailer line', { byteOffset });
  }

  private where(lineIndex: number): { txIndex?: number; byteOffset: number } {
    return lineIndex === 0
      ? { byteOffset: this.lineStart }
      : { txIndex: lineIndex - 1, byteOffset: this.lineStart };
  }

  private translateGzipError(error: unknown): unknown {
    const code = (error as { code?: unknown }).code;
    if (error instanceof DxFormatError || typeof code !== 'string' || !code.startsWith('Z_')) return error;
    const message = (error as Error).message;
    const at = { byteOffset: this.contentBytes };
    if (code === 'Z_BUF_ERROR') {
      return new DxFormatError(DxErrorCode.Truncated, `the gzip stream ends early (${message})`, at);
    }
    return new DxFormatError(DxErrorCode.BadGzip, `the gzip stream is invalid (${message})`, at);
  }
}

export function readDxFile(path: string, limits?: Partial<DxLimits>): DxReader {
  return DxReader.open(createReadStream(path, { highWaterMark: 64 * 1024 }), limits);
}

/** Reads and verifies a whole DX file without keeping its transactions. */
export async function validateDx(input: Readable, limits?: Partial<DxLimits>): Promise<DxReadSummary> {
  const reader = DxReader.open(input, limits);
  for await (const _ of reader);
  return reader.summary();
}
