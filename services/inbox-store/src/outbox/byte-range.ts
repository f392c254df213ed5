import { ErrorCode } from '@outpost/contracts';
import { DomainError } from '@outpost/server-kit';

export interface ResolvedRange {
  start: number;
  end: number;
}

/**
 * Parses a single HTTP byte range (`bytes=N-`, `bytes=N-M`, `bytes=-K`) against the object size.
 * Returns null for no Range header, so the whole object is sent. An unsatisfiable range throws
 * with the size in details, so resuming agents can tell they already hold everything.
 */
export function parseByteRange(header: string | undefined, size: number): ResolvedRange | null {
  if (header === undefined || header.trim() === '') return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) {
    throw new DomainError(
      ErrorCode.ValidationFailed,
      `Unsupported Range "${header}"; use bytes=N- or bytes=N-M`,
    );
  }
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) {
    throw new DomainError(ErrorCode.ValidationFailed, `Range "${header}" is outside the ${size}-byte file`, {
      size,
      rangeNotSatisfiable: true,
    });
  }
  return { start, end };
}
