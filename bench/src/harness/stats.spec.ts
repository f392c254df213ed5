import fc from 'fast-check';
import { median, percentile, perSecond, speedRatio, summarize } from './stats';

describe('stats', () => {
  it('takes the middle value of an odd count and the mean of the middle two of an even count', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('uses nearest-rank percentiles, which are always measured values', () => {
    const runs = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(percentile(runs, 50)).toBe(100);
    expect(percentile(runs, 99)).toBe(198);
    expect(percentile(runs, 100)).toBe(200);
    expect(percentile([10, 20, 30, 40], 25)).toBe(10);
    expect(percentile([10, 20, 30, 40], 26)).toBe(20);
    expect(percentile([3], 99)).toBe(3);
  });

  it('summarises without depending on the input order', () => {
    expect(summarize([9, 1, 5, 3, 7])).toEqual({ n: 5, median: 5, min: 1, max: 9, p50: 5, p99: 9, mean: 5 });
  });

  it('keeps median and percentiles within min and max', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (values) => {
          const s = summarize(values);
          expect(s.min).toBeLessThanOrEqual(s.median);
          expect(s.median).toBeLessThanOrEqual(s.max);
          expect(s.min).toBeLessThanOrEqual(s.p50);
          expect(s.p50).toBeLessThanOrEqual(s.p99);
          expect(s.p99).toBeLessThanOrEqual(s.max);
          expect(values).toContain(s.p99);
        },
      ),
    );
  });

  it('refuses empty input, non-finite values and percentiles out of range', () => {
    expect(() => median([])).toThrow('no values');
    expect(() => summarize([1, Number.NaN])).toThrow('non-finite');
    expect(() => percentile([1], 0)).toThrow('(0, 100]');
    expect(() => percentile([1], 101)).toThrow('(0, 100]');
  });

  it('reads every ratio as a speed relative to the baseline', () => {
    expect(speedRatio(700, 1000, true)).toBeCloseTo(0.7);
    expect(speedRatio(20, 10, false)).toBeCloseTo(0.5);
    expect(() => speedRatio(0, 10, true)).toThrow('positive');
  });

  it('turns a count and milliseconds into a rate per second', () => {
    expect(perSecond(100_000, 2_000)).toBe(50_000);
    expect(() => perSecond(1, 0)).toThrow('positive');
  });
});
