import { DX_FORMAT, DX_VERSION, type DxHeader } from './types';

/** The seqs of a file's transactions, or their range when the transactions are made later. */
export type SeqSource = ReadonlyArray<{ seq: number }> | { firstSeq: number; count: number };

/**
 * The header of an upload file of `client`: this library's format and version, the seq range and
 * count of its transactions (0 for an empty file), written now. `extra` sets anything else
 * (`schemaVersion`, `createdAt`).
 */
export function uploadHeaderFor(
  client: string,
  fileSeq: number,
  seqs: SeqSource,
  extra: Partial<DxHeader> = {},
): DxHeader {
  const range =
    'count' in seqs
      ? { firstSeq: seqs.count === 0 ? 0 : seqs.firstSeq, count: seqs.count }
      : { firstSeq: seqs[0]?.seq ?? 0, count: seqs.length };
  const lastSeq =
    'count' in seqs
      ? range.count === 0
        ? 0
        : range.firstSeq + range.count - 1
      : (seqs[seqs.length - 1]?.seq ?? 0);
  return {
    format: DX_FORMAT,
    version: DX_VERSION,
    client,
    fileSeq,
    direction: 'upload',
    firstSeq: range.firstSeq,
    lastSeq,
    count: range.count,
    createdAt: new Date().toISOString(),
    ...extra,
  };
}
