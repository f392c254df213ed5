import {
  archiveKey,
  inboxBucket,
  inboxKey,
  outboxBucket,
  outboxKey,
  padFileSeq,
  partKey,
  partOffsetOf,
  partsPrefix,
  quarantineKey,
  stagingKey,
} from './layout';

describe('object layout', () => {
  it('names buckets after the prefix', () => {
    expect(inboxBucket('outpost')).toBe('outpost-inbox');
    expect(outboxBucket('t1')).toBe('t1-outbox');
  });

  it('pads file seqs to 12 digits', () => {
    expect(inboxKey('laptop-7', 1)).toBe('inbox/laptop-7/000000000001.dx');
    expect(archiveKey('laptop-7', 42)).toBe('archive/laptop-7/000000000042.dx');
    expect(quarantineKey('a.b_c', 999_999_999_999)).toBe('quarantine/a.b_c/999999999999.dx');
    expect(outboxKey('laptop-7', 3, 12)).toBe('outbox/laptop-7/3/000000000012.dx');
    expect(stagingKey('laptop-7', 5, '0b9f6a3e-1c2d')).toBe('staging/laptop-7/000000000005.0b9f6a3e-1c2d.dx');
  });

  it('keeps lexical order equal to numeric order', () => {
    expect(padFileSeq(9) < padFileSeq(10)).toBe(true);
  });

  it.each([0, -1, 1.5, 1e12, Number.NaN])('refuses file seq %p', (seq) => {
    expect(() => inboxKey('a', seq)).toThrow(RangeError);
  });

  it.each(['', '../etc', 'a/b', '-lead', 'x'.repeat(65)])('refuses client name %p', (name) => {
    expect(() => inboxKey(name, 1)).toThrow(/Invalid client name/);
  });

  it('refuses a negative epoch and an odd upload id', () => {
    expect(() => outboxKey('a', -1, 1)).toThrow(RangeError);
    expect(() => stagingKey('a', 1, '../x')).toThrow(RangeError);
  });

  it('names a part by file, whole-file sha256 and offset, and reads the offset back', () => {
    const sha = 'ab'.repeat(32);
    const key = partKey('laptop-7', 5, sha, 65_536);
    expect(key).toBe(`parts/laptop-7/000000000005/${sha}/000000000065536.part`);
    expect(key.startsWith(partsPrefix('laptop-7', 5))).toBe(true);
    expect(key.startsWith(partsPrefix('laptop-7'))).toBe(true);
    expect(partOffsetOf(key)).toBe(65_536);
    expect(partOffsetOf('staging/laptop-7/000000000005.x.dx')).toBeNull();
  });

  it('refuses a part with an odd sha256 or offset', () => {
    expect(() => partKey('a', 1, '../x', 0)).toThrow(RangeError);
    expect(() => partKey('a', 1, 'ab'.repeat(32), -1)).toThrow(RangeError);
  });
});
