import fc from 'fast-check';
import { isValidBucketName, uniqueDatabaseName, uniquePrefix } from './prefix';

describe('uniquePrefix', () => {
  it('is a valid service prefix and makes valid inbox and outbox bucket names from any label', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (label) => {
        const prefix = uniquePrefix(label);
        expect(prefix).toMatch(/^[a-z][a-z0-9-]*[a-z0-9]$/);
        expect(prefix.length).toBeLessThanOrEqual(40);
        expect(isValidBucketName(`${prefix}-inbox`)).toBe(true);
        expect(isValidBucketName(`${prefix}-outbox`)).toBe(true);
      }),
    );
  });

  it('keeps a readable label at the front', () => {
    expect(uniquePrefix('Applier Crash_Test')).toMatch(/^applier-crash-test-/);
  });

  it('differs on every call', () => {
    const prefixes = new Set(Array.from({ length: 200 }, () => uniquePrefix('same')));
    expect(prefixes.size).toBe(200);
  });
});

describe('uniqueDatabaseName', () => {
  it('is a lowercase Postgres identifier within 63 bytes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (label) => {
        const name = uniqueDatabaseName(label);
        expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
      }),
    );
  });
});

describe('isValidBucketName', () => {
  it.each(['abc', 'outpost-inbox', 'a.b-c'])('accepts %s', (name) =>
    expect(isValidBucketName(name)).toBe(true),
  );
  it.each(['ab', 'Upper-case', '-lead', 'trail-', 'a..b', '192.168.1.1', 'x'.repeat(64), 'under_score'])(
    'rejects %s',
    (name) => expect(isValidBucketName(name)).toBe(false),
  );
});
