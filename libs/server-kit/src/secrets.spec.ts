import { generateSecret, hashSecret, verifySecret, VerifiedSecretCache } from './secrets';

describe('secret hashing', () => {
  it('verifies the right secret and refuses a wrong one', async () => {
    const secret = generateSecret();
    const hash = await hashSecret(secret);
    expect(hash).toMatch(/^scrypt\$N=16384,r=8,p=1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(hash).not.toContain(secret);
    await expect(verifySecret(secret, hash)).resolves.toBe(true);
    await expect(verifySecret(secret + 'x', hash)).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashSecret('same')).not.toBe(await hashSecret('same'));
  });

  it('never matches a malformed or tampered hash', async () => {
    await expect(verifySecret('s', 'plain')).resolves.toBe(false);
    await expect(verifySecret('s', 'scrypt$N=3,r=8,p=1$c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5')).resolves.toBe(
      false,
    );
  });

  it('generates distinct url-safe secrets', () => {
    const a = generateSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateSecret()).not.toBe(a);
  });
});

describe('VerifiedSecretCache', () => {
  it('answers a repeated good secret from memory, and never a wrong one or an expired entry', async () => {
    let now = 0;
    const cache = new VerifiedSecretCache(1000, 10, () => now);
    const hash = await hashSecret('right secret');
    expect(await cache.verify('right secret', hash)).toBe(true);
    expect(await cache.verify('wrong secret', hash)).toBe(false);
    expect(await cache.verify('right secret', hash)).toBe(true);
    now = 2000;
    expect(await cache.verify('wrong secret', hash)).toBe(false);
    expect(await cache.verify('right secret', hash)).toBe(true);
    const rotated = await hashSecret('new secret');
    expect(await cache.verify('right secret', rotated)).toBe(false);
  });

  it('keeps at most its size, dropping the oldest entry', async () => {
    const cache = new VerifiedSecretCache(60_000, 2);
    const hashes = await Promise.all(['a', 'b', 'c'].map((s) => hashSecret(s)));
    for (const [i, s] of ['a', 'b', 'c'].entries()) expect(await cache.verify(s, hashes[i]!)).toBe(true);
    expect((cache as unknown as { entries: Map<string, unknown> }).entries.size).toBe(2);
  });
});
