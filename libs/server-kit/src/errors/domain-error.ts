import { ErrorCode } from '@outpost/contracts';

const codes = new Set<string>(Object.values(ErrorCode));

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && codes.has(value);
}

/** An expected failure with a stable code; transports map it, clients branch on the code. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    public correlationId?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  withCorrelationId(correlationId: string | undefined): this {
    if (!this.correlationId) this.correlationId = correlationId;
    return this;
  }
}

/** Turns anything thrown into a DomainError; unknown errors become INTERNAL without leaking their text. */
export function toDomainError(err: unknown, correlationId?: string): DomainError {
  if (err instanceof DomainError) return err.withCorrelationId(correlationId);
  return new DomainError(ErrorCode.Internal, 'Internal server error', undefined, correlationId);
}
