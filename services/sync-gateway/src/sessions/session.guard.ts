import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { ErrorCode } from '@outpost/contracts';
import { bearerToken, correlationIdOf, DomainError } from '@outpost/server-kit';
import type { IncomingMessage } from 'node:http';
import { ClientStateCache } from './client-state.cache';
import { SessionTokens, type SessionClaims } from './session-token';

type WithSession = IncomingMessage & { session?: SessionClaims };

/**
 * Every agent route but POST /v1/sessions needs `Authorization: Bearer <session token>`, and the
 * token's client must still be active under the credential epoch the session was opened with: a
 * stolen laptop is cut off within the client-state cache time of a deactivate or rotate-secret,
 * not at the token's expiry.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly tokens: SessionTokens,
    private readonly clients: ClientStateCache,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<WithSession>();
    const token = bearerToken(req.headers.authorization);
    const claims = token ? this.tokens.verify(token) : null;
    if (!claims) {
      throw new DomainError(
        ErrorCode.SessionInvalid,
        'Missing, invalid or expired session token; open a new session with POST /v1/sessions',
      );
    }
    const state = await this.clients.get(claims.client, correlationIdOf(req));
    if (!state || state.status !== 'active' || state.epoch !== claims.epoch) {
      throw new DomainError(
        ErrorCode.SessionRevoked,
        `This session of "${claims.client}" was revoked: the client was deactivated or its secret rotated since it opened`,
      );
    }
    req.session = claims;
    return true;
  }
}

/** The authenticated session of the request (set by SessionGuard). */
export const Session = createParamDecorator((_data: unknown, ctx: ExecutionContext): SessionClaims => {
  const session = ctx.switchToHttp().getRequest<WithSession>().session;
  if (!session) throw new DomainError(ErrorCode.SessionInvalid, 'No session on this request');
  return session;
});
