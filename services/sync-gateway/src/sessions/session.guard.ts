import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { ErrorCode } from '@outpost/contracts';
import { DomainError } from '@outpost/server-kit';
import type { IncomingMessage } from 'node:http';
import { SessionTokens, type SessionClaims } from './session-token';

type WithSession = IncomingMessage & { session?: SessionClaims };

/** Every agent route but POST /v1/sessions needs `Authorization: Bearer <session token>`. */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(private readonly tokens: SessionTokens) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<WithSession>();
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const claims = m ? this.tokens.verify(m[1]) : null;
    if (!claims) {
      throw new DomainError(
        ErrorCode.SessionInvalid,
        'Missing, invalid or expired session token; open a new session with POST /v1/sessions',
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
