import { ErrorCode } from '@outpost/contracts';
import { DxErrorCode, DxFormatError, DxReader, type DxReadSummary } from '@outpost/dx-format';
import { DomainError } from '@outpost/server-kit';
import type { Readable } from 'node:stream';

export interface DxUploadLimits {
  /** Most transactions (each one row change) in a file. */
  maxFileRows: number;
  /** Longest transaction line, uncompressed. */
  maxTxnBytes: number;
}

/**
 * Reads and verifies an upload file within the server's limits. The transaction count is the
 * header's (the reader holds the file to it), so a file with too many is refused at its first
 * line; a transaction too long is refused before it is buffered whole.
 */
export async function validateUpload(
  input: Readable,
  fileSeq: number,
  limits: DxUploadLimits,
  correlationId: string,
): Promise<DxReadSummary> {
  const reader = DxReader.open(input, { maxLineBytes: limits.maxTxnBytes });
  try {
    const header = await reader.header();
    if (header.count > limits.maxFileRows) {
      throw new DomainError(
        ErrorCode.UploadLimitExceeded,
        `File ${fileSeq} holds ${header.count} transactions, more than the ${limits.maxFileRows} the server accepts in one file (UPLOAD_MAX_FILE_ROWS); write the changes into smaller files`,
        { limit: 'UPLOAD_MAX_FILE_ROWS', max: limits.maxFileRows, count: header.count },
        correlationId,
      );
    }
    for await (const _ of reader.batches());
    return reader.summary();
  } catch (err) {
    if (err instanceof DxFormatError && err.code === DxErrorCode.LineTooLong && err.txIndex !== undefined) {
      throw new DomainError(
        ErrorCode.UploadLimitExceeded,
        `Transaction ${err.txIndex} of file ${fileSeq} is longer than the ${limits.maxTxnBytes} bytes the server accepts for one transaction (UPLOAD_MAX_TXN_BYTES); keep large values out of synced columns or ask the administrator to raise the limit`,
        { limit: 'UPLOAD_MAX_TXN_BYTES', max: limits.maxTxnBytes, txIndex: err.txIndex },
        correlationId,
      );
    }
    throw err;
  } finally {
    await reader.close().catch(() => undefined);
  }
}
