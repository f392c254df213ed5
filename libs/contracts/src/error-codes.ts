/** Stable error codes; HTTP status and RMQ mapping live in server-kit. */
export enum ErrorCode {
  ClientUnknown = 'CLIENT_UNKNOWN',
  /** Unknown client or wrong secret: one answer, so a name cannot be probed. */
  ClientAuthFailed = 'CLIENT_AUTH_FAILED',
  ClientDeactivated = 'CLIENT_DEACTIVATED',
  ClientExists = 'CLIENT_EXISTS',
  ClientNameInvalid = 'CLIENT_NAME_INVALID',
  SessionInvalid = 'SESSION_INVALID',
  /** The session was opened before its client was deactivated or its secret rotated. */
  SessionRevoked = 'SESSION_REVOKED',
  AdminTokenInvalid = 'ADMIN_TOKEN_INVALID',
  /** An internal endpoint was called without the service token (INTERNAL_TOKEN). */
  InternalTokenInvalid = 'INTERNAL_TOKEN_INVALID',
  FileSeqTaken = 'FILE_SEQ_TAKEN',
  /** An upload skips a file seq: files apply in order, so it would wait for ever. */
  FileSeqGap = 'FILE_SEQ_GAP',
  FileNotFound = 'FILE_NOT_FOUND',
  DxInvalid = 'DX_INVALID',
  DxWrongClient = 'DX_WRONG_CLIENT',
  ChecksumMismatch = 'CHECKSUM_MISMATCH',
  EpochMismatch = 'EPOCH_MISMATCH',
  /** The laptop holds another synced schema than the server's. */
  SchemaMismatch = 'SCHEMA_MISMATCH',
  /** The laptop's schema version is older than the oldest the server still accepts. */
  SchemaTooOld = 'SCHEMA_TOO_OLD',
  /** The laptop's schema version is newer than the server's. */
  SchemaTooNew = 'SCHEMA_TOO_NEW',
  ValidationFailed = 'VALIDATION_FAILED',
  /** Too many failed session opens for a client name or a source address: wait for Retry-After. */
  TooManyAttempts = 'TOO_MANY_ATTEMPTS',
  /** The upload body is larger than UPLOAD_MAX_BYTES. */
  UploadTooLarge = 'UPLOAD_TOO_LARGE',
  /** The DX file holds more transactions, or a longer transaction, than the server accepts. */
  UploadLimitExceeded = 'UPLOAD_LIMIT_EXCEEDED',
  /** The upload body stopped arriving for longer than UPLOAD_IDLE_TIMEOUT_MS. */
  UploadStalled = 'UPLOAD_STALLED',
  /** A part of a resumable upload does not start where the server's bytes end, or the parts do not make the whole file. */
  UploadOffsetMismatch = 'UPLOAD_OFFSET_MISMATCH',
  RouteNotFound = 'ROUTE_NOT_FOUND',
  DependencyUnavailable = 'DEPENDENCY_UNAVAILABLE',
  Internal = 'INTERNAL',
}
