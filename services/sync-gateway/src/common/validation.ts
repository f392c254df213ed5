import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ErrorCode } from '@outpost/contracts';
import { DomainError } from '@outpost/server-kit';

/** Every problem of a body, nested objects included, once each. */
function problems(errors: ValidationError[]): string[] {
  const out = errors.flatMap((e) => [...Object.values(e.constraints ?? {}), ...problems(e.children ?? [])]);
  return [...new Set(out)];
}

/**
 * Checks a request body against its DTO class (class-validator) and refuses it with the usual
 * VALIDATION_FAILED error naming every problem, instead of Nest's generic 400.
 */
export const dtoValidation = new ValidationPipe({
  whitelist: true,
  transform: true,
  exceptionFactory: (errors) =>
    new DomainError(
      ErrorCode.ValidationFailed,
      `Invalid request body: ${problems(errors).join('; ') || 'not an object'}`,
    ),
});
