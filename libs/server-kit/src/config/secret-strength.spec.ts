import { randomBytes } from 'node:crypto';
import { placeholderReason } from './secret-strength';

describe('placeholderReason', () => {
  it.each([
    ['changeme-changeme-changeme-changeme', 'placeholder'],
    ['my-Secret-value-for-the-gateway-123', 'placeholder'],
    ['Password1234567890Password1234567890', 'placeholder'],
    ['token.example.com/abcdQWERTYzxcvbnm', 'placeholder'],
    ['xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'repeated'],
    ['0123456789abcdef0123456789abcdef', 'repeated'],
    ['Zq0123456789-not-random-at-allQ', 'consecutive'],
  ])('refuses %p', (value, kind) => {
    expect(placeholderReason(value)).toMatch(
      kind === 'placeholder' ? /placeholder/ : kind === 'repeated' ? /repeated/ : /consecutive/,
    );
  });

  it('accepts generated values', () => {
    for (let i = 0; i < 500; i++) {
      expect(placeholderReason(randomBytes(32).toString('base64url'))).toBeNull();
      expect(placeholderReason(randomBytes(32).toString('base64'))).toBeNull();
      expect(placeholderReason(randomBytes(24).toString('hex'))).toBeNull();
    }
  });
});
