import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { RmqContext } from '@nestjs/microservices';
import { CORRELATION_HEADER } from '@outpost/contracts';
import { Observable, throwError } from 'rxjs';
import { toDomainError } from '../errors/domain-error';

/** What travels back to an RPC caller when a handler fails. */
export interface RpcErrorPayload {
  code: string;
  message: string;
  correlationId?: string;
  details?: Record<string, unknown>;
}

export function correlationIdOfRmq(ctx: unknown): string | undefined {
  if (!(ctx instanceof RmqContext)) return undefined;
  const headers = (ctx.getMessage() as { properties?: { headers?: Record<string, unknown> } }).properties
    ?.headers;
  const id = headers?.[CORRELATION_HEADER];
  return typeof id === 'string' ? id : undefined;
}

/** The one RMQ error mapper on the answering side: any failure becomes an RpcErrorPayload. */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcError');

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const ctx = host.switchToRpc().getContext<unknown>();
    const correlationId = correlationIdOfRmq(ctx);
    const err = toDomainError(exception, correlationId);
    const pattern = ctx instanceof RmqContext ? ctx.getPattern() : '?';
    if (err.code === 'INTERNAL') {
      this.logger.error(
        `${pattern} failed [${correlationId}]`,
        exception instanceof Error ? exception.stack : String(exception),
      );
    } else {
      this.logger.warn(`${pattern} -> ${err.code} [${correlationId}] ${err.message}`);
    }
    const payload: RpcErrorPayload = { code: err.code, message: err.message, correlationId };
    if (err.details) payload.details = err.details;
    return throwError(() => payload);
  }
}
