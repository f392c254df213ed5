import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RmqContext } from '@nestjs/microservices';
import { ADMIN_TOKEN_HEADER, ErrorCode, INTERNAL_TOKEN_HEADER } from '@outpost/contracts';
import { DomainError } from '../errors/domain-error';
import { TokenMatcher } from '../secrets';

/** What a service compares its callers' tokens with (RPC message headers, internal HTTP). */
export interface ServiceCredentials {
  internalToken: string;
  /** Absent: the server has no administrators' patterns. */
  adminToken?: string;
}
export const SERVICE_CREDENTIALS = Symbol('SERVICE_CREDENTIALS');

const ADMIN_ONLY = 'outpost:rpc-admin-only';

/** Marks a pattern that only administrators may call: it needs the admin token besides the service token. */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

/**
 * RabbitMQ carries no caller identity, and anything holding broker credentials can publish to an
 * RPC queue. Every pattern therefore needs the service token in its headers, and the patterns
 * that manage clients also need the admin token, which only the gateway holds: a compromised
 * applier or router, which hold neither, cannot add a client or learn a secret.
 */
@Injectable()
export class RpcAuthGuard implements CanActivate {
  private readonly internal: TokenMatcher;
  private readonly admin: TokenMatcher | null;

  constructor(
    @Inject(SERVICE_CREDENTIALS) credentials: ServiceCredentials,
    private readonly reflector: Reflector,
  ) {
    this.internal = new TokenMatcher(credentials.internalToken);
    this.admin = credentials.adminToken ? new TokenMatcher(credentials.adminToken) : null;
  }

  canActivate(ctx: ExecutionContext): boolean {
    const headers = headersOf(ctx.switchToRpc().getContext<unknown>());
    if (!this.internal.matches(headers[INTERNAL_TOKEN_HEADER])) {
      throw new DomainError(
        ErrorCode.InternalTokenInvalid,
        `Missing or wrong service token: send the INTERNAL_TOKEN in the ${INTERNAL_TOKEN_HEADER} message header`,
      );
    }
    const adminOnly = this.reflector.get<boolean | undefined>(ADMIN_ONLY, ctx.getHandler());
    if (adminOnly && !this.admin?.matches(headers[ADMIN_TOKEN_HEADER])) {
      throw new DomainError(
        ErrorCode.AdminTokenInvalid,
        `Missing or wrong admin token: this pattern is for administrators (${ADMIN_TOKEN_HEADER} message header)`,
      );
    }
    return true;
  }
}

function headersOf(ctx: unknown): Record<string, unknown> {
  if (!(ctx instanceof RmqContext)) return {};
  const message = ctx.getMessage() as { properties?: { headers?: Record<string, unknown> } };
  return message.properties?.headers ?? {};
}
