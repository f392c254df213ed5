import { ErrorCode } from '@outpost/contracts';

/** The one place that decides an error code's HTTP status. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.ClientUnknown:
    case ErrorCode.ClientAuthFailed:
    case ErrorCode.SessionInvalid:
    case ErrorCode.SessionRevoked:
    case ErrorCode.AdminTokenInvalid:
    case ErrorCode.InternalTokenInvalid:
      return 401;
    case ErrorCode.ClientDeactivated:
      return 403;
    case ErrorCode.FileNotFound:
    case ErrorCode.RouteNotFound:
      return 404;
    case ErrorCode.ClientExists:
    case ErrorCode.FileSeqTaken:
    case ErrorCode.FileSeqGap:
    case ErrorCode.UploadOffsetMismatch:
    case ErrorCode.EpochMismatch:
    case ErrorCode.SchemaMismatch:
    case ErrorCode.SchemaTooOld:
    case ErrorCode.SchemaTooNew:
      return 409;
    case ErrorCode.ClientNameInvalid:
    case ErrorCode.DxInvalid:
    case ErrorCode.DxWrongClient:
    case ErrorCode.ChecksumMismatch:
    case ErrorCode.UploadLimitExceeded:
      return 422;
    case ErrorCode.UploadTooLarge:
      return 413;
    case ErrorCode.UploadStalled:
      return 408;
    case ErrorCode.TooManyAttempts:
      return 429;
    case ErrorCode.ValidationFailed:
      return 400;
    case ErrorCode.DependencyUnavailable:
      return 503;
    case ErrorCode.Internal:
      return 500;
    default:
      return assertNever(code);
  }
}

/** For HTTP errors raised by the framework itself (unknown route, unparsable body). */
export function errorCodeOfHttpStatus(status: number): ErrorCode {
  if (status === 404) return ErrorCode.RouteNotFound;
  if (status === 401) return ErrorCode.SessionInvalid;
  if (status >= 400 && status < 500) return ErrorCode.ValidationFailed;
  if (status === 503) return ErrorCode.DependencyUnavailable;
  return ErrorCode.Internal;
}

function assertNever(code: never): never {
  throw new Error(`Unhandled error code ${String(code)}`);
}
