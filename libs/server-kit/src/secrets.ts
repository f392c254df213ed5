import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
const DEFAULT_PARAMS = { N: 16384, r: 8, p: 1 } as const;

function scryptAsync(secret: string, salt: Buffer, keyLength: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyLength, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function maxmemFor(N: number, r: number): number {
  return 256 * N * r;
}

/** A random secret for a client: 32 bytes, base64url (43 characters). */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Hashes a secret with scrypt. The result carries its own parameters and salt
 * (`scrypt$N=16384,r=8,p=1$<salt>$<hash>`), so the cost can rise later without breaking old hashes.
 */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p } = DEFAULT_PARAMS;
  const key = await scryptAsync(secret, salt, KEY_LENGTH, { N, r, p, maxmem: maxmemFor(N, r) });
  return `scrypt$N=${N},r=${r},p=${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Constant-time check of a secret against a hash from hashSecret; a malformed hash never matches. */
export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (!parsed) return false;
  const { N, r, p, salt, key } = parsed;
  const candidate = await scryptAsync(secret, salt, key.length, { N, r, p, maxmem: maxmemFor(N, r) });
  return timingSafeEqual(candidate, key);
}

function parseHash(encoded: string): { N: number; r: number; p: number; salt: Buffer; key: Buffer } | null {
  const m = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(encoded);
  if (!m) return null;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Refuse absurd parameters from a tampered row instead of burning memory on them.
  if (N < 2 || N > 2 ** 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return null;
  const key = Buffer.from(m[5], 'base64url');
  if (key.length < 16) return null;
  return { N, r, p, salt: Buffer.from(m[4], 'base64url'), key };
}

/**
 * Remembers, for a while, which secret last verified against which stored hash, so that a laptop
 * that syncs every few minutes pays the slow hash once, not on every session. Only a SHA-256 of
 * the secret is kept, in memory; a rotated secret has a new hash, so its old entry never matches.
 */
export class VerifiedSecretCache {
  private readonly entries = new Map<string, { digest: Buffer; until: number }>();

  constructor(
    private readonly ttlMs = 15 * 60_000,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(secret: string, encoded: string): Promise<boolean> {
    const digest = createHash('sha256').update(secret).digest();
    const hit = this.entries.get(encoded);
    if (hit && hit.until > this.now() && timingSafeEqual(hit.digest, digest)) return true;
    const ok = await verifySecret(secret, encoded);
    if (ok) this.remember(encoded, digest);
    return ok;
  }

  private remember(encoded: string, digest: Buffer): void {
    this.entries.delete(encoded);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(encoded, { digest, until: this.now() + this.ttlMs });
  }
}

/**
 * A configured token that presented values are compared with in constant time: both sides are
 * hashed first, so neither the content nor the length of the expected token leaks through timing.
 */
export class TokenMatcher {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = createHash('sha256').update(token).digest();
  }

  matches(given: unknown): boolean {
    if (typeof given !== 'string' || given === '') return false;
    return timingSafeEqual(createHash('sha256').update(given).digest(), this.expected);
  }
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: unknown): string | null {
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m ? m[1] : null;
}
