import { SessionTokens } from './session-token';

describe('SessionTokens', () => {
  let now = 1_700_000_000_000;
  const KEY = 'k7Qh2mVx9LpR4sTn8wYc3zBd6fGj1aEu';
  const tokens = new SessionTokens(KEY, 3600, () => now);

  it('verifies a token it issued', () => {
    const { token, claims } = tokens.issue('laptop-1', 1);
    expect(tokens.verify(token)).toEqual(claims);
    expect(claims).toMatchObject({ client: 'laptop-1', epoch: 1 });
  });

  it('is accepted by another replica with the same key, refused with another key', () => {
    const { token } = tokens.issue('laptop-1', 1);
    expect(new SessionTokens(KEY, 3600, () => now).verify(token)).not.toBeNull();
    expect(new SessionTokens(`${KEY}x`, 3600, () => now).verify(token)).toBeNull();
  });

  it('refuses a tampered or malformed token', () => {
    const { token } = tokens.issue('laptop-1', 1);
    const [v, body, sig] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), client: 'laptop-2' }),
    ).toString('base64url');
    expect(tokens.verify(`${v}.${forged}.${sig}`)).toBeNull();
    expect(tokens.verify('garbage')).toBeNull();
    expect(tokens.verify(`${v}.${body}.`)).toBeNull();
  });

  it('refuses an expired token', () => {
    const { token } = tokens.issue('laptop-1', 1);
    now += 3601 * 1000;
    expect(tokens.verify(token)).toBeNull();
  });
});
