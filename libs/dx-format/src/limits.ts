/** What a reader accepts before refusing a file; the writer enforces the line and size limits too. */
export interface DxLimits {
  /** Longest line, in uncompressed bytes. A line is buffered whole before it is parsed, so this bounds memory. */
  maxLineBytes: number;
  /** Largest uncompressed content (header, transactions and trailer). */
  maxDecompressedBytes: number;
  /**
   * Largest uncompressed/compressed ratio, checked once `ratioCheckAfterBytes` have been decompressed.
   * It refuses a gzip bomb after a few megabytes instead of after `maxDecompressedBytes`.
   */
  maxCompressionRatio: number;
  /** The ratio is not checked below this many uncompressed bytes, so small repetitive files pass. */
  ratioCheckAfterBytes: number;
}

const MiB = 1024 * 1024;

/**
 * Real DX content carries a random UUID per line and compresses 5-15x; only content built to repeat
 * (a bomb) passes 200x. The ratio check starts above two maximum lines so that a file with one huge,
 * repetitive value still fails with LINE_TOO_LONG rather than a misleading TOO_LARGE.
 */
export const DEFAULT_DX_LIMITS: Readonly<DxLimits> = Object.freeze({
  maxLineBytes: 16 * MiB,
  maxDecompressedBytes: 4 * 1024 * MiB,
  maxCompressionRatio: 200,
  ratioCheckAfterBytes: 32 * MiB,
});

export function resolveLimits(limits: Partial<DxLimits> | undefined): DxLimits {
  return limits ? { ...DEFAULT_DX_LIMITS, ...limits } : { ...DEFAULT_DX_LIMITS };
}
