import { ErrorCode } from '@outpost/contracts';
import { errorCodeOfHttpStatus, httpStatusOf } from './http-status';
import { DomainError, isErrorCode, toDomainError } from './domain-error';

describe('httpStatusOf', () => {
  it.each([
    [ErrorCode.ClientUnknown, 401],
    [ErrorCode.ClientAuthFailed, 401],
    [ErrorCode.SessionRevoked, 401],
    [ErrorCode.InternalTokenInvalid, 401],
    [ErrorCode.ClientDeactivated, 403],
    [ErrorCode.FileSeqTaken, 409],
    [ErrorCode.DxInvalid, 422],
    [ErrorCode.DxWrongClient, 422],
    [ErrorCode.ChecksumMismatch, 422],
    [ErrorCode.FileNotFound, 404],
    [ErrorCode.TooManyAttempts, 429],
    [ErrorCode.UploadTooLarge, 413],
    [ErrorCode.UploadLimitExceeded, 422],
    [ErrorCode.UploadStalled, 408],
    [ErrorCode.UploadOffsetMismatch, 409],
    [ErrorCode.DependencyUnavailable, 503],
    [ErrorCode.Internal, 500],
  ])('%s -> %d', (code, status) => {
    expect(httpStatusOf(code)).toBe(status);
  });

  it('gives every code a 4xx or 5xx status', () => {
    for (const code of Object.values(ErrorCode)) {
      expect(httpStatusOf(code)).toBeGreaterThanOrEqual(400);
    }
  });

  it('maps framework statuses back to codes', () => {
    expect(errorCodeOfHttpStatus(404)).toBe(ErrorCode.RouteNotFound);
    expect(errorCodeOfHttpStatus(413)).toBe(ErrorCode.ValidationFailed);
    expect(errorCodeOfHttpStatus(500)).toBe(ErrorCode.Internal);
  });
});

describe('toDomainError', () => {
  it('keeps domain errors and hides the text of unknown ones', () => {
    const known = new DomainError(ErrorCode.FileSeqTaken, 'taken');
    expect(toDomainError(known, 'c1')).toMatchObject({ code: ErrorCode.FileSeqTaken, correlationId: 'c1' });
    const unknown = toDomainError(new Error('password=hunter2 at /srv/x.js'), 'c2');
    expect(unknown.code).toBe(ErrorCode.Internal);
    expect(unknown.message).not.toContain('hunter2');
  });

  it('recognises error codes', () => {
    expect(isErrorCode('CLIENT_UNKNOWN')).toBe(true);
    expect(isErrorCode('NOPE')).toBe(false);
  });
});
