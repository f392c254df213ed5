import { DomainError } from '@outpost/server-kit';
import { parseByteRange } from './byte-range';

describe('parseByteRange', () => {
  it('reads open, closed and suffix ranges', () => {
    expect(parseByteRange(undefined, 10)).toBeNull();
    expect(parseByteRange('bytes=4-', 10)).toEqual({ start: 4, end: 9 });
    expect(parseByteRange('bytes=2-5', 10)).toEqual({ start: 2, end: 5 });
    expect(parseByteRange('bytes=2-50', 10)).toEqual({ start: 2, end: 9 });
    expect(parseByteRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
  });

  it.each(['bytes=10-', 'bytes=5-2', 'items=1-', 'bytes=-', 'bytes=1-2,4-5'])('refuses %p', (h) => {
    expect(() => parseByteRange(h, 10)).toThrow(DomainError);
  });
});
