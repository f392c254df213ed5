import type { GatewayConfig } from '../config';
import { OpenAttemptsLimiter } from './open-attempts.limiter';

const limiter = () =>
  new OpenAttemptsLimiter({ sessionOpenLimit: 3, sessionOpenWindowSeconds: 60 } as GatewayConfig);

describe('OpenAttemptsLimiter', () => {
  const t0 = 1_000_000;

  it('lets a name try until its failures reach the limit, then says when to come back', () => {
    const l = limiter();
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfterSeconds('lap', `10.0.0.${i}`, t0 + i * 1000)).toBe(0);
      l.recordFailure('lap', `10.0.0.${i}`, t0 + i * 1000);
    }
    // The oldest failure leaves the window 60 s after it happened.
    expect(l.retryAfterSeconds('lap', '10.0.0.9', t0 + 2000)).toBe(58);
    expect(l.retryAfterSeconds('lap', '10.0.0.9', t0 + 60_000)).toBe(0);
  });

  it('limits an address trying many names', () => {
    const l = limiter();
    for (let i = 0; i < 3; i++) l.recordFailure(`name-${i}`, '192.0.2.7', t0);
    expect(l.retryAfterSeconds('name-new', '192.0.2.7', t0 + 1)).toBe(60);
    expect(l.retryAfterSeconds('name-new', '192.0.2.8', t0 + 1)).toBe(0);
  });

  it("forgets a name's failures when it opens a session, but not its address's", () => {
    const l = limiter();
    for (let i = 0; i < 3; i++) l.recordFailure('lap', '192.0.2.7', t0);
    l.recordSuccess('lap');
    expect(l.retryAfterSeconds('lap', '192.0.2.8', t0 + 1)).toBe(0);
    expect(l.retryAfterSeconds('lap', '192.0.2.7', t0 + 1)).toBe(60);
  });
});
