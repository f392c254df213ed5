import type { RefusalCode } from '@outpost/contracts';

/**
 * A file the applier refuses for good: it is quarantined with this message as the reason, and the
 * client's later files wait behind it. Anything else thrown while applying is treated as transient.
 */
export class ApplyRejection extends Error {
  constructor(
    readonly code: ApplyRejectionCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApplyRejection';
  }
}

export enum ApplyRejectionCode {
  /** The header disagrees with the inbox row or the client's applied position. */
  HeaderMismatch = 'HEADER_MISMATCH',
  /** Seqs do not continue from the last applied transaction. */
  SeqNotContiguous = 'SEQ_NOT_CONTIGUOUS',
  UnknownTable = 'UNKNOWN_TABLE',
  UnknownColumn = 'UNKNOWN_COLUMN',
  /** A value does not have its column's type, or a required value is missing. */
  BadValue = 'BAD_VALUE',
  /** An op that upload files cannot carry. */
  BadOperation = 'BAD_OPERATION',
  /** The DX file itself is broken (DxFormatError). */
  DxInvalid = 'DX_INVALID',
  /** Postgres refused a value (data exception) that passed the applier's own checks. */
  ValueRefused = 'VALUE_REFUSED',
  /** Postgres refused the file's rows by a constraint (integrity violation) when they were written. */
  ConstraintRefused = 'CONSTRAINT_REFUSED',
  /** The file was written under a newer version of the synced schema than the server runs. */
  SchemaTooNew = 'SCHEMA_TOO_NEW',
  /** The file's object is missing from storage. */
  ObjectMissing = 'OBJECT_MISSING',
  /** Any other error, repeated the same way as many times as the applier allows. */
  RepeatedFailure = 'REPEATED_FAILURE',
}

/**
 * Every change of the file is refused, not quarantined: the client's position moves past it, its
 * changes are recorded as refused and its laptop converges to the server's rows. The file itself
 * is well formed; what it says is not allowed (it names another user).
 */
export class FileRefusal extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'FileRefusal';
  }
}
