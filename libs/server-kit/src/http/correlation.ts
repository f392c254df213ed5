import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CORRELATION_HEADER } from '@outpost/contracts';
import { runWithCorrelation } from '../logging/correlation-context';

type WithCorrelation = IncomingMessage & { correlationId?: string };

const SAFE_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Takes the caller's correlation id when it looks sane, else makes one; echoes it on the response
 * and runs the rest of the request in its context (async-local storage).
 */
export function correlationMiddleware(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const incoming = req.headers[CORRELATION_HEADER];
  const id = typeof incoming === 'string' && SAFE_ID.test(incoming) ? incoming : randomUUID();
  (req as WithCorrelation).correlationId = id;
  res.setHeader(CORRELATION_HEADER, id);
  // Everything the request does from here (logs, calls, messages) carries the id.
  runWithCorrelation(id, next);
}

export function correlationIdOf(req: IncomingMessage): string {
  const r = req as WithCorrelation;
  if (!r.correlationId) r.correlationId = randomUUID();
  return r.correlationId;
}

/** The request's correlation id, for handlers that pass it on to other services. */
export const CorrelationId = createParamDecorator((_data: unknown, ctx: ExecutionContext): string =>
  correlationIdOf(ctx.switchToHttp().getRequest<IncomingMessage>()),
);
