/** Why a DX file was refused. The values are stable: servers return them to agents and store them as quarantine reasons. */
export enum DxErrorCode {
  /** The file ends early: no trailer line, a cut-off gzip stream, or an empty file. */
  Truncated = 'TRUNCATED',
  /** The bytes are not a valid gzip stream (not gzip, corrupted, CRC failure, garbage after the gzip data). */
  BadGzip = 'BAD_GZIP',
  /** The trailer's sha256 does not match the content. */
  BadChecksum = 'BAD_CHECKSUM',
  /** The first line is not a DX header (`format` is not "outpost-dx"). */
  UnknownFormat = 'UNKNOWN_FORMAT',
  /** The header's `version` is not one this library reads. */
  UnsupportedVersion = 'UNSUPPORTED_VERSION',
  /** A line is not a JSON object. */
  MalformedJson = 'MALFORMED_JSON',
  /** A required field of the header, a transaction or the trailer is absent. */
  MissingField = 'MISSING_FIELD',
  /** A field has the wrong type or form, or is not part of the format. */
  InvalidField = 'INVALID_FIELD',
  /** A column value (in `row` or `changes`) is not a valid DX value. */
  InvalidValue = 'INVALID_VALUE',
  /** Unknown `op`, or an `op` that the file's direction does not allow. */
  BadOperation = 'BAD_OPERATION',
  /** A transaction's seq is not greater than the previous one. */
  SeqBackwards = 'SEQ_BACKWARDS',
  /** An upload file skips a seq. */
  SeqGap = 'SEQ_GAP',
  /** The number of transactions differs from the header's or the trailer's `count`. */
  CountMismatch = 'COUNT_MISMATCH',
  /** The transactions disagree with the header's `firstSeq` / `lastSeq`. */
  HeaderMismatch = 'HEADER_MISMATCH',
  /** A line exceeds `maxLineBytes`. */
  LineTooLong = 'LINE_TOO_LONG',
  /** The content exceeds `maxDecompressedBytes`, or decompresses suspiciously well (`maxCompressionRatio`). */
  TooLarge = 'TOO_LARGE',
  /** Content follows the trailer line. */
  TrailingData = 'TRAILING_DATA',
}

export interface DxErrorLocation {
  /** 0-based index of the offending transaction (the header is not counted). */
  txIndex?: number;
  /** Offset in the uncompressed content where the offending line (or the refused data) starts. */
  byteOffset?: number;
}

const ADVICE: Record<DxErrorCode, string> = {
  [DxErrorCode.Truncated]: 'The file is incomplete: send or download it again.',
  [DxErrorCode.BadGzip]: 'The file is corrupted or is not a DX file: send or download it again.',
  [DxErrorCode.BadChecksum]: 'The content was altered after it was written: send or download the file again.',
  [DxErrorCode.UnknownFormat]: 'This is not a DX file; check that the right file was sent.',
  [DxErrorCode.UnsupportedVersion]:
    'This library reads DX version 1 only: upgrade the reader or write the file with a matching version.',
  [DxErrorCode.MalformedJson]:
    'The writer produced an invalid file: fix the writer and write the file again.',
  [DxErrorCode.MissingField]: 'The writer produced an invalid file: fix the writer and write the file again.',
  [DxErrorCode.InvalidField]: 'The writer produced an invalid file: fix the writer and write the file again.',
  [DxErrorCode.InvalidValue]:
    'Encode the value as a DX value (see the value helpers dec, date, ts, int, json) and write the file again.',
  [DxErrorCode.BadOperation]:
    'Upload files carry insert/update/delete only; fix the writer and write the file again.',
  [DxErrorCode.SeqBackwards]:
    'Transactions must be written in increasing seq order: fix the writer and write the file again.',
  [DxErrorCode.SeqGap]:
    'Upload files must carry every transaction seq from firstSeq to lastSeq: write the file again from the local transaction log.',
  [DxErrorCode.CountMismatch]:
    'The header and trailer counts must equal the number of transactions: write the file again.',
  [DxErrorCode.HeaderMismatch]:
    "The header's firstSeq/lastSeq must match the first and last transaction: write the file again.",
  [DxErrorCode.LineTooLong]:
    'Raise the maxLineBytes limit if such large rows are legitimate, otherwise refuse the file.',
  [DxErrorCode.TooLarge]:
    'Raise the maxDecompressedBytes / maxCompressionRatio limits if the file is legitimate, otherwise refuse it.',
  [DxErrorCode.TrailingData]: 'Nothing may follow the trailer line: write the file again.',
};

/** A DX file (or a transaction handed to the writer) that breaks the format. */
export class DxFormatError extends Error {
  readonly txIndex?: number;
  readonly byteOffset?: number;

  constructor(
    readonly code: DxErrorCode,
    problem: string,
    where: DxErrorLocation = {},
  ) {
    super(`${code}: ${problem}${describeLocation(where)}. ${ADVICE[code]}`);
    this.name = 'DxFormatError';
    if (where.txIndex !== undefined) this.txIndex = where.txIndex;
    if (where.byteOffset !== undefined) this.byteOffset = where.byteOffset;
  }
}

function describeLocation({ txIndex, byteOffset }: DxErrorLocation): string {
  const parts: string[] = [];
  if (txIndex !== undefined) parts.push(`transaction #${txIndex} (0-based)`);
  if (byteOffset !== undefined) parts.push(`uncompressed byte offset ${byteOffset}`);
  return parts.length ? ` [at ${parts.join(', ')}]` : '';
}
