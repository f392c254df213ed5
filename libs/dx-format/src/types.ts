/** The DX transaction file's data model. The wire format is specified in ../README.md. */

export const DX_FORMAT = 'outpost-dx';
export const DX_VERSION = 1;

export type DxDirection = 'upload' | 'download';
export type DxFileKind = 'changes' | 'extract';

export interface DxHeader {
  format: typeof DX_FORMAT;
  version: typeof DX_VERSION;
  client: string;
  fileSeq: number;
  direction: DxDirection;
  /** First and last transaction seq in the file; both 0 when count is 0. */
  firstSeq: number;
  lastSeq: number;
  count: number;
  /** ISO-8601 UTC creation time. */
  createdAt: string;
  /** Download files only: 'extract' carries a full snapshot that replaces the local data. */
  kind?: DxFileKind;
  /** Download files only: bumps on every (re)extract of the client. */
  epoch?: number;
  /**
   * Version of the synced schema the transactions were written under (optional; a file without it
   * was written before schema versions and is read as version 1).
   */
  schemaVersion?: number;
}

export interface DxDecimal {
  $dec: string;
}
export interface DxDate {
  $date: string;
}
export interface DxTimestamp {
  $ts: string;
}
export interface DxBigInt {
  $int: string;
}
export interface DxJson {
  $json: unknown;
}

/** A column value that keeps its type across SQLite, the wire and Postgres. */
export type DxValue = string | number | boolean | null | DxDecimal | DxDate | DxTimestamp | DxBigInt | DxJson;
export type DxRow = Record<string, DxValue>;

export interface DxChange {
  old: DxValue;
  new: DxValue;
}

interface DxTxBase {
  /** Upload: the client's transaction seq (contiguous). Download: the server log seq (increasing). */
  seq: number;
  /** ISO-8601 UTC time of the change. */
  at: string;
  /** Login of the user who made the change ('' when unknown, such as a direct SQL write). */
  user: string;
  table: string;
  /** Row id (UUID). */
  id: string;
}

export interface DxInsert extends DxTxBase {
  op: 'insert';
  row: DxRow;
}
export interface DxUpdate extends DxTxBase {
  op: 'update';
  /** Server row version the client based its change on; null for a row the server has not acknowledged. */
  base: number | null;
  changes: Record<string, DxChange>;
}
export interface DxDelete extends DxTxBase {
  op: 'delete';
  base: number | null;
}
/** Download only: the full server row, to insert or replace. */
export interface DxUpsert extends DxTxBase {
  op: 'upsert';
  version: number;
  row: DxRow;
}
/** Download only: the row left the client's visibility; drop the local copy (it was not deleted). */
export interface DxEvict extends DxTxBase {
  op: 'evict';
}
/** Download only: the server has applied the client's own transactions up to and including `upTo`. */
export interface DxConfirm extends DxTxBase {
  op: 'confirm';
  upTo: number;
}

export type DxUploadTransaction = DxInsert | DxUpdate | DxDelete;
export type DxTransaction = DxInsert | DxUpdate | DxDelete | DxUpsert | DxEvict | DxConfirm;
export type DxOperation = DxTransaction['op'];
