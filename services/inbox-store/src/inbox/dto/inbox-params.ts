import { ErrorCode, isValidClientName } from '@outpost/contracts';
import { DomainError } from '@outpost/server-kit';

/** What the caller knows about the file's transactions (from its validated DX header). */
export interface TxnRange {
  txnCount: number;
  firstSeq: number;
  lastSeq: number;
}

export interface CommitRequest extends TxnRange {
  uploadId: string;
  sha256: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

function invalid(message: string): DomainError {
  return new DomainError(ErrorCode.ValidationFailed, message);
}

export function parseClient(value: unknown): string {
  if (!isValidClientName(value))
    throw new DomainError(ErrorCode.ClientNameInvalid, `Invalid client name "${String(value)}"`);
  return value;
}

export function parseCount(value: unknown, what: string, min: number): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > 2_147_483_647) {
    throw invalid(`${what} must be an integer from ${min} to 2147483647, got "${String(value)}"`);
  }
  return n;
}

/** An administrator's reason for rejecting a file: said in words, kept with the file. */
export function parseRejectReason(value: unknown): string {
  const s = typeof value === 'string' ? value.trim() : '';
  if (s.length === 0 || s.length > 1000)
    throw invalid('a rejection needs a reason (--reason TEXT) of 1 to 1000 characters');
  return s;
}

/** A byte offset or length: files may pass 2^31 bytes, so the bound is the safe integers. */
export function parseByteCount(value: unknown, what: string): number {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw invalid(`${what} must be a byte count, got "${String(value)}"`);
  return n;
}

export const parseFileSeq = (value: unknown): number => parseCount(value, 'fileSeq', 1);

export function parseSha256(value: unknown, what = 'x-dx-sha256'): string {
  const s = typeof value === 'string' ? value.toLowerCase() : '';
  if (!SHA256.test(s))
    throw invalid(`${what} must be the 64-hex-digit sha256 of the file, got "${String(value)}"`);
  return s;
}

export function parseTxnRange(count: unknown, firstSeq: unknown, lastSeq: unknown): TxnRange {
  const range = {
    txnCount: parseCount(count, 'txnCount (x-dx-count)', 0),
    firstSeq: parseCount(firstSeq, 'firstSeq (x-dx-first-seq)', 0),
    lastSeq: parseCount(lastSeq, 'lastSeq (x-dx-last-seq)', 0),
  };
  if (range.lastSeq < range.firstSeq)
    throw invalid(`lastSeq ${range.lastSeq} is below firstSeq ${range.firstSeq}`);
  return range;
}

export function parseCommitRequest(body: unknown): CommitRequest {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof b.uploadId !== 'string' || !/^[A-Za-z0-9-]{8,64}$/.test(b.uploadId)) {
    throw invalid('commit needs the uploadId returned by the staging PUT');
  }
  return {
    uploadId: b.uploadId,
    sha256: parseSha256(b.sha256, 'sha256'),
    ...parseTxnRange(b.txnCount, b.firstSeq, b.lastSeq),
  };
}
