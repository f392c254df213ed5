import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@outpost/contracts';
import { DomainError } from '@outpost/server-kit';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { GatewayConfig } from '../config';
import { GATEWAY_CONFIG } from '../infra/infra.tokens';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time (digests make the lengths equal). */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.expected = digest(config.adminToken);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const header = ctx.switchToHttp().getRequest<IncomingMessage>().headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m || !timingSafeEqual(digest(m[1]), this.expected)) {
      throw new DomainError(
        ErrorCode.AdminTokenInvalid,
        'Missing or wrong admin token; send Authorization: Bearer <ADMIN_TOKEN>',
      );
    }
    return true;
  }
}
