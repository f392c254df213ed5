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
