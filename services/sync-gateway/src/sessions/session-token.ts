import { createHmac, hkdfSync, randomUUID, timingSafeEqual } from 'node:crypto';

export interface SessionClaims {
  sessionId: string;
  client: string;
  /** The client's credential epoch when the session opened; a later deactivate or rotate-secret bumps it. */
  epoch: number;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

/**
 * Stateless session tokens: `v1.<claims>.<hmac>` signed with HMAC-SHA256, so any gateway replica
 * that shares the key accepts a token another issued, and nothing is stored per session.
 */
export class SessionTokens {
  private readonly key: Buffer;

  /** The key is SESSION_KEY's own: nothing else (the admin token in particular) can sign a session. */
  constructor(
    sessionKey: string,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', sessionKey, 'outpost-session', 'session-token-v1', 32));
  }

  issue(client: string, epoch: number): { token: string; claims: SessionClaims } {
    const claims: SessionClaims = {
      sessionId: randomUUID(),
      client,
      epoch,
      exp: Math.floor(this.now() / 1000) + this.ttlSeconds,
    };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `v1.${body}.${this.sign(body)}`, claims };
  }

  /** The claims of a valid, unexpired token; null for anything else. */
  verify(token: string): SessionClaims | null {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== 'v1') return null;
    const expected = Buffer.from(this.sign(parts[1]));
    const given = Buffer.from(parts[2]);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let claims: SessionClaims;
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as SessionClaims;
    } catch {
      return null;
    }
    if (
      typeof claims.client !== 'string' ||
      typeof claims.exp !== 'number' ||
      typeof claims.epoch !== 'number'
    )
      return null;
    return claims.exp * 1000 > this.now() ? claims : null;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
