import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@outpost/contracts';
import type { IncomingMessage } from 'node:http';
import { DomainError } from '../errors/domain-error';
import { SERVICE_CREDENTIALS, type ServiceCredentials } from '../rmq/rpc-auth.guard';
import { bearerToken, TokenMatcher } from '../secrets';

/**
 * Internal HTTP endpoints answer only callers holding the service token
 * (`Authorization: Bearer <INTERNAL_TOKEN>`): being on the same network is not an identity.
 */
@Injectable()
export class InternalTokenGuard implements CanActivate {
  private readonly expected: TokenMatcher;

  constructor(@Inject(SERVICE_CREDENTIALS) credentials: ServiceCredentials) {
    this.expected = new TokenMatcher(credentials.internalToken);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const header = ctx.switchToHttp().getRequest<IncomingMessage>().headers.authorization;
    if (!this.expected.matches(bearerToken(header))) {
      throw new DomainError(
        ErrorCode.InternalTokenInvalid,
        'Missing or wrong service token: internal endpoints need Authorization: Bearer <INTERNAL_TOKEN>',
      );
    }
    return true;
  }
}
