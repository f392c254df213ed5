import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@outpost/contracts';
import { bearerToken, DomainError, TokenMatcher } from '@outpost/server-kit';
import type { IncomingMessage } from 'node:http';
import type { GatewayConfig } from '../config';
import { GATEWAY_CONFIG } from '../infra/infra.tokens';

/** `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: TokenMatcher;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.expected = new TokenMatcher(config.adminToken);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const header = ctx.switchToHttp().getRequest<IncomingMessage>().headers.authorization;
    if (!this.expected.matches(bearerToken(header))) {
      throw new DomainError(
        ErrorCode.AdminTokenInvalid,
        'Missing or wrong admin token; send Authorization: Bearer <ADMIN_TOKEN>',
      );
    }
    return true;
  }
}
