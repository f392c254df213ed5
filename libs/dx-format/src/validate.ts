import { DxErrorCode, DxFormatError } from './errors';
import { DX_FORMAT, DX_VERSION, DxDirection, DxHeader, DxOperation, DxTransaction } from './types';
import { clip, timestampProblem, valueProblem } from './values';

const CLIENT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Canonical (lowercase) UUID text, as Postgres and crypto.randomUUID print it, so ids compare as strings. */
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TABLE_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

const COMMON_FIELDS = ['seq', 'at', 'user', 'table', 'id', 'op'] as const;
const OP_FIELDS: Record<DxOperation, readonly string[]> = {
  insert: ['row'],
  update: ['base', 'changes'],
  delete: ['base'],
  upsert: ['version', 'row'],
  evict: [],
  confirm: ['upTo'],
};
const UPLOAD_OPS: ReadonlySet<string> = new Set<DxOperation>(['insert', 'update', 'delete']);
const HEADER_FIELDS = [
  'format',
  'version',
  'client',
  'fileSeq',
  'direction',
  'firstSeq',
  'lastSeq',
  'count',
  'createdAt',
];
const DOWNLOAD_HEADER_FIELDS = ['kind', 'epoch'];
/** Optional in both directions; files written before it existed are read as schema version 1. */
const OPTIONAL_HEADER_FIELDS = ['schemaVersion'];
const TRAILER_FIELDS = ['trailer', 'count', 'sha256'];

export interface DxTrailer {
  trailer: true;
  count: number;
  sha256: string;
}

type Obj = Record<string, unknown>;

/** Checks a decoded header line and returns it with its fields in the canonical order. */
export function checkHeader(value: unknown): DxHeader {
  const at = { byteOffset: 0 };
  if (!isObject(value) || value.format !== DX_FORMAT) {
    const found = isObject(value)
      ? `format ${JSON.stringify(value.format) ?? 'missing'}`
      : 'not a JSON object';
    throw new DxFormatError(
      DxErrorCode.UnknownFormat,
      `the first line is not a DX header (${found}; expected format "${DX_FORMAT}")`,
      at,
    );
  }
  if (value.version === undefined)
    throw new DxFormatError(DxErrorCode.MissingField, 'header field "version" is missing', at);
  if (value.version !== DX_VERSION) {
    throw new DxFormatError(
      DxErrorCode.UnsupportedVersion,
      `header version ${clip(JSON.stringify(value.version))} is not supported (expected ${DX_VERSION})`,
      at,
    );
  }
  const headerField = (name: string, problem: string) =>
    new DxFormatError(DxErrorCode.InvalidField, `header field "${name}" ${problem}`, at);
  const direction = value.direction;
  const isDownload = direction === 'download';
  const required = isDownload ? [...HEADER_FIELDS, ...DOWNLOAD_HEADER_FIELDS] : HEADER_FIELDS;
  for (const name of required) {
    if (value[name] === undefined) {
      const why = isDownload && DOWNLOAD_HEADER_FIELDS.includes(name) ? ' (required in download files)' : '';
      throw new DxFormatError(DxErrorCode.MissingField, `header field "${name}" is missing${why}`, at);
    }
  }
  rejectUnknownFields(value, [...required, ...OPTIONAL_HEADER_FIELDS], (name) =>
    DOWNLOAD_HEADER_FIELDS.includes(name)
      ? headerField(name, 'is allowed in download files only')
      : headerField(name, 'is not part of the format'),
  );
  if (direction !== 'upload' && !isDownload) throw headerField('direction', 'must be "upload" or "download"');
  if (typeof value.client !== 'string' || !CLIENT_NAME_RE.test(value.client)) {
    throw headerField('client', `must be a client name matching ${CLIENT_NAME_RE}`);
  }
  if (!isPositiveInt(value.fileSeq)) throw headerField('fileSeq', 'must be an integer >= 1');
  for (const name of ['firstSeq', 'lastSeq', 'count']) {
    if (!isNonNegativeInt(value[name])) throw headerField(name, 'must be an integer >= 0');
  }
  const { firstSeq, lastSeq, count } = value as { firstSeq: number; lastSeq: number; count: number };
  if (count === 0 && (firstSeq !== 0 || lastSeq !== 0))
    throw headerField('count', 'is 0, so firstSeq and lastSeq must be 0');
  if (count > 0 && (firstSeq < 1 || lastSeq < firstSeq))
    throw headerField('firstSeq', 'must be >= 1 and <= lastSeq');
  if (count > 0 && direction === 'upload' && count !== lastSeq - firstSeq + 1) {
    throw headerField(
      'count',
      `must be lastSeq - firstSeq + 1 = ${lastSeq - firstSeq + 1} in an upload file`,
    );
  }
  if (count > lastSeq - firstSeq + 1)
    throw headerField('count', `cannot exceed lastSeq - firstSeq + 1 = ${lastSeq - firstSeq + 1}`);
  if (typeof value.createdAt !== 'string' || timestampProblem(value.createdAt)) {
    throw headerField('createdAt', 'must be a UTC timestamp YYYY-MM-DDTHH:MM:SS[.ffffff]Z');
  }
  const header: DxHeader = {
    format: DX_FORMAT,
    version: DX_VERSION,
    client: value.client,
    fileSeq: value.fileSeq as number,
    direction,
    firstSeq,
    lastSeq,
    count,
    createdAt: value.createdAt,
  };
  if (isDownload) {
    if (value.kind !== 'changes' && value.kind !== 'extract')
      throw headerField('kind', 'must be "changes" or "extract"');
    if (!isNonNegativeInt(value.epoch)) throw headerField('epoch', 'must be an integer >= 0');
    header.kind = value.kind;
    header.epoch = value.epoch;
  }
  if (value.schemaVersion !== undefined) {
    if (!isPositiveInt(value.schemaVersion)) throw headerField('schemaVersion', 'must be an integer >= 1');
    header.schemaVersion = value.schemaVersion;
  }
  return header;
}

/**
 * Checks one decoded transaction line against the format and the file's direction
 * (not its seq order: see SeqTracker). Hot path: no allocation on success.
 */
export function checkTransaction(
  value: unknown,
  direction: DxDirection,
  txIndex: number,
  byteOffset?: number,
): asserts value is DxTransaction {
  const at = { txIndex, byteOffset };
  if (!isObject(value))
    throw new DxFormatError(DxErrorCode.MalformedJson, 'a transaction line is not a JSON object', at);
  const op = value.op;
  if (op === undefined)
    throw new DxFormatError(DxErrorCode.MissingField, 'transaction field "op" is missing', at);
  const opFields = fieldsOf(op);
  if (!opFields) {
    throw new DxFormatError(
      DxErrorCode.BadOperation,
      `unknown op ${clip(JSON.stringify(op))}; expected one of ${Object.keys(OP_FIELDS).join(', ')}`,
      at,
    );
  }
  if (direction === 'upload' && !UPLOAD_OPS.has(op as string)) {
    throw new DxFormatError(
      DxErrorCode.BadOperation,
      `op "${op as string}" is not allowed in an upload file`,
      at,
    );
  }
  // Named property reads, not a loop over field names: keyed reads across many object shapes are slow.
  if (value.seq === undefined) throw missingTxField('seq', at);
  if (value.at === undefined) throw missingTxField('at', at);
  if (value.user === undefined) throw missingTxField('user', at);
  if (value.table === undefined) throw missingTxField('table', at);
  if (value.id === undefined) throw missingTxField('id', at);
  const missing = missingOpField(value, op as DxOperation);
  if (missing) throw missingTxField(missing, at);
  let keys = 0;
  for (const _ in value) keys++;
  if (keys !== COMMON_FIELDS.length + opFields.length) {
    // A key holding undefined is absent once JSON-encoded, so only defined unknown keys are refused.
    rejectUnknownFields(value, [...COMMON_FIELDS, ...opFields], (name) =>
      invalidTxField(name, `is not part of a "${op as string}" transaction`, at),
    );
  }
  if (!isPositiveInt(value.seq)) throw invalidTxField('seq', 'must be an integer >= 1', at);
  if (typeof value.at !== 'string' || timestampProblem(value.at)) {
    throw invalidTxField('at', 'must be a UTC timestamp YYYY-MM-DDTHH:MM:SS[.ffffff]Z', at);
  }
  if (typeof value.user !== 'string' || valueProblem(value.user))
    throw invalidTxField('user', 'must be a string', at);
  if (op === 'confirm') {
    if (value.table !== '') throw invalidTxField('table', 'must be "" in a confirm transaction', at);
    if (value.id !== '') throw invalidTxField('id', 'must be "" in a confirm transaction', at);
    if (!isNonNegativeInt(value.upTo)) throw invalidTxField('upTo', 'must be an integer >= 0', at);
    return;
  }
  if (typeof value.table !== 'string' || !TABLE_RE.test(value.table)) {
    throw invalidTxField('table', `must be a table name matching ${TABLE_RE}`, at);
  }
  if (typeof value.id !== 'string' || !UUID_RE.test(value.id))
    throw invalidTxField('id', 'must be a lowercase UUID', at);
  switch (op as DxOperation) {
    case 'insert':
      checkRow(value.row, at);
      return;
    case 'update':
      checkBase(value.base, at);
      checkChanges(value.changes, at);
      return;
    case 'delete':
      checkBase(value.base, at);
      return;
    case 'upsert':
      if (!isNonNegativeInt(value.version)) throw invalidTxField('version', 'must be an integer >= 0', at);
      checkRow(value.row, at);
      return;
    case 'evict':
    case 'confirm':
      return;
  }
}

/** Checks a decoded trailer line's shape (not its values: the reader compares those). */
export function checkTrailer(value: Obj, byteOffset: number): DxTrailer {
  const at = { byteOffset };
  const trailerField = (name: string, problem: string) =>
    new DxFormatError(DxErrorCode.InvalidField, `trailer field "${name}" ${problem}`, at);
  for (const name of TRAILER_FIELDS) {
    if (value[name] === undefined)
      throw new DxFormatError(DxErrorCode.MissingField, `trailer field "${name}" is missing`, at);
  }
  rejectUnknownFields(value, TRAILER_FIELDS, (name) => trailerField(name, 'is not part of the format'));
  if (value.trailer !== true) throw trailerField('trailer', 'must be true');
  if (!isNonNegativeInt(value.count)) throw trailerField('count', 'must be an integer >= 0');
  if (typeof value.sha256 !== 'string' || !SHA256_RE.test(value.sha256))
    throw trailerField('sha256', 'must be 64 lowercase hex digits');
  return value as unknown as DxTrailer;
}

/** Enforces seq order and the header's firstSeq/lastSeq/count as transactions go by. */
export class SeqTracker {
  count = 0;
  private last = 0;

  constructor(private readonly header: DxHeader) {}

  next(seq: number, txIndex: number, byteOffset?: number): void {
    const h = this.header;
    const at = { txIndex, byteOffset };
    if (this.count >= h.count) {
      throw new DxFormatError(
        DxErrorCode.CountMismatch,
        `the header announces ${h.count} transactions but there are more`,
        at,
      );
    }
    if (this.count === 0) {
      if (seq !== h.firstSeq) {
        throw new DxFormatError(
          DxErrorCode.HeaderMismatch,
          `the first transaction has seq ${seq} but the header's firstSeq is ${h.firstSeq}`,
          at,
        );
      }
    } else if (seq <= this.last) {
      throw new DxFormatError(
        DxErrorCode.SeqBackwards,
        `seq ${seq} follows seq ${this.last}; seq must increase`,
        at,
      );
    } else if (h.direction === 'upload' && seq !== this.last + 1) {
      throw new DxFormatError(
        DxErrorCode.SeqGap,
        `seq ${seq} follows seq ${this.last}; upload seqs are contiguous, ${this.last + 1} is missing`,
        at,
      );
    }
    if (seq > h.lastSeq) {
      throw new DxFormatError(
        DxErrorCode.HeaderMismatch,
        `seq ${seq} is beyond the header's lastSeq ${h.lastSeq}`,
        at,
      );
    }
    this.last = seq;
    this.count++;
  }

  /** Called once all transactions are seen. */
  finish(byteOffset?: number): void {
    const h = this.header;
    const at = { byteOffset };
    if (this.count !== h.count) {
      throw new DxFormatError(
        DxErrorCode.CountMismatch,
        `the header announces ${h.count} transactions but the file has ${this.count}`,
        at,
      );
    }
    if (this.count > 0 && this.last !== h.lastSeq) {
      throw new DxFormatError(
        DxErrorCode.HeaderMismatch,
        `the last transaction has seq ${this.last} but the header's lastSeq is ${h.lastSeq}`,
        at,
      );
    }
  }
}

function fieldsOf(op: unknown): readonly string[] | undefined {
  switch (op) {
    case 'insert':
    case 'update':
    case 'delete':
    case 'upsert':
    case 'evict':
    case 'confirm':
      return OP_FIELDS[op];
    default:
      return undefined;
  }
}

function missingOpField(value: Obj, op: DxOperation): string | undefined {
  switch (op) {
    case 'insert':
      return value.row === undefined ? 'row' : undefined;
    case 'update':
      return value.base === undefined ? 'base' : value.changes === undefined ? 'changes' : undefined;
    case 'delete':
      return value.base === undefined ? 'base' : undefined;
    case 'upsert':
      return value.version === undefined ? 'version' : value.row === undefined ? 'row' : undefined;
    case 'evict':
      return undefined;
    case 'confirm':
      return value.upTo === undefined ? 'upTo' : undefined;
  }
}

function checkBase(base: unknown, at: { txIndex: number; byteOffset?: number }): void {
  if (base !== null && !isNonNegativeInt(base))
    throw invalidTxField('base', 'must be null or an integer >= 0', at);
}

function checkRow(row: unknown, at: { txIndex: number; byteOffset?: number }): void {
  if (!isObject(row)) throw invalidTxField('row', 'must be an object of column values', at);
  for (const column in row) {
    if (column === '') throw invalidTxField('row', 'has an empty column name', at);
    const problem = valueProblem(row[column]);
    if (problem)
      throw new DxFormatError(DxErrorCode.InvalidValue, `row column "${clip(column)}": ${problem}`, at);
  }
}

function checkChanges(changes: unknown, at: { txIndex: number; byteOffset?: number }): void {
  if (!isObject(changes)) throw invalidTxField('changes', 'must be an object of {old, new} per column', at);
  for (const column in changes) {
    if (column === '') throw invalidTxField('changes', 'has an empty column name', at);
    const change = changes[column];
    if (!isObject(change))
      throw invalidTxField('changes', `column "${clip(column)}" must be {"old": …, "new": …}`, at);
    let keys = 0;
    for (const _ in change) keys++;
    if (keys !== 2 || change.old === undefined || change.new === undefined) {
      throw invalidTxField(
        'changes',
        `column "${clip(column)}" must have exactly the keys "old" and "new"`,
        at,
      );
    }
    const problem = valueProblem(change.old) ?? valueProblem(change.new);
    if (problem) {
      const side = valueProblem(change.old) ? 'old' : 'new';
      throw new DxFormatError(
        DxErrorCode.InvalidValue,
        `changes column "${clip(column)}" ${side}: ${problem}`,
        at,
      );
    }
  }
}

function rejectUnknownFields(
  value: Obj,
  known: readonly string[],
  error: (name: string) => DxFormatError,
): void {
  for (const name in value) {
    if (value[name] !== undefined && !known.includes(name)) throw error(clip(name));
  }
}

function missingTxField(name: string, at: { txIndex: number; byteOffset?: number }): DxFormatError {
  return new DxFormatError(DxErrorCode.MissingField, `transaction field "${name}" is missing`, at);
}

function invalidTxField(
  name: string,
  problem: string,
  at: { txIndex: number; byteOffset?: number },
): DxFormatError {
  return new DxFormatError(DxErrorCode.InvalidField, `transaction field "${name}" ${problem}`, at);
}

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}
