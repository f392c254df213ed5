import { generateSecret, hashSecret, verifySecret } from './secrets';

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
