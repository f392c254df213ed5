import { ClientProxy, RmqRecordBuilder } from '@nestjs/microservices';
import { ADMIN_TOKEN_HEADER, CORRELATION_HEADER, ErrorCode, INTERNAL_TOKEN_HEADER } from '@outpost/contracts';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';
import { DomainError, isErrorCode } from '../errors/domain-error';

export const DEFAULT_RPC_TIMEOUT_MS = 15_000;

/** The caller's side of the RMQ mapper: a rejected RPC comes back as the DomainError it was. */
export function rpcErrorToDomainError(err: unknown, pattern: string, correlationId?: string): DomainError {
  if (err instanceof DomainError) return err.withCorrelationId(correlationId);
  if (err instanceof TimeoutError) {
    return new DomainError(
      ErrorCode.DependencyUnavailable,
      `No answer to ${pattern} in time: is the service that owns it running and connected to RabbitMQ?`,
      undefined,
      correlationId,
    );
  }
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; message?: unknown; details?: unknown; correlationId?: unknown };
    if (isErrorCode(e.code)) {
      const message = typeof e.message === 'string' ? e.message : String(e.code);
      const details =
        typeof e.details === 'object' && e.details !== null
          ? (e.details as Record<string, unknown>)
          : undefined;
      const id = typeof e.correlationId === 'string' ? e.correlationId : correlationId;
      return new DomainError(e.code, message, details, id);
    }
  }
  const text = err instanceof Error ? err.message : JSON.stringify(err);
  return new DomainError(
    ErrorCode.DependencyUnavailable,
    `${pattern} failed: ${text}`,
    undefined,
    correlationId,
  );
}

export interface RpcCallOptions {
  timeoutMs?: number;
  /** Extra message headers, such as the credentials of `rpcCredentials()`. */
  headers?: Record<string, string>;
}

/**
 * The headers that authenticate a caller to an RPC server guarded by RpcAuthGuard: the service
 * token always, the admin token for the patterns only administrators may call.
 */
export function rpcCredentials(internalToken: string, adminToken?: string): Record<string, string> {
  return adminToken
    ? { [INTERNAL_TOKEN_HEADER]: internalToken, [ADMIN_TOKEN_HEADER]: adminToken }
    : { [INTERNAL_TOKEN_HEADER]: internalToken };
}

/** Sends one request over a Nest RMQ ClientProxy with the correlation id in a message header. */
export async function callRpc<T>(
  client: ClientProxy,
  pattern: string,
  data: object,
  correlationId: string,
  options: RpcCallOptions = {},
): Promise<T> {
  const { timeoutMs = DEFAULT_RPC_TIMEOUT_MS, headers = {} } = options;
  const record = new RmqRecordBuilder(data)
    .setOptions({ headers: { ...headers, [CORRELATION_HEADER]: correlationId } })
    .build();
  try {
    return (await firstValueFrom(client.send<T>(pattern, record).pipe(timeout(timeoutMs)), {
      defaultValue: undefined,
    })) as T;
  } catch (err) {
    throw rpcErrorToDomainError(err, pattern, correlationId);
  }
}
