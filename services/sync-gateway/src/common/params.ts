import { ErrorCode } from '@outpost/contracts';
import { DomainError } from '@outpost/server-kit';

export function parseFileSeqParam(value: unknown, what = 'fileSeq'): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d{1,10}$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 2_147_483_647) {
    throw new DomainError(
      ErrorCode.ValidationFailed,
      `${what} must be a positive integer, got "${String(value)}"`,
    );
  }
  return n;
}

/** The x-dx-sha256 header of an upload: the whole file's sha256, 64 hex digits. */
export function parseSha256(value: unknown): string {
  const sha256 = String(value ?? '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new DomainError(
      ErrorCode.ValidationFailed,
      'Header x-dx-sha256 must carry the sha256 (64 hex digits) of the file',
    );
  }
  return sha256;
}

/** A byte offset in a path: files may pass 2^31 bytes, so the bound is the safe integers. */
export function parseByteOffsetParam(value: unknown, what = 'offset'): number {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new DomainError(
      ErrorCode.ValidationFailed,
      `${what} must be a byte offset (a non-negative integer), got "${String(value)}"`,
    );
  }
  return n;
}
