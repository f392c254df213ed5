/** Summary of repeated measurements of one figure. */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  p50: number;
  p99: number;
  mean: number;
}

function sorted(values: readonly number[]): number[] {
  if (values.length === 0) throw new RangeError('no values to summarise');
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`cannot summarise a non-finite value (${v})`);
  }
  return [...values].sort((a, b) => a - b);
}

/** Middle value; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  const s = sorted(values);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Nearest-rank percentile: the smallest value with at least `p` percent of the values at or below
 * it. It is always one of the measured values, so a p99 over 200 runs is the second-worst run,
 * not an interpolation between runs.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], not ${p}`);
  const s = sorted(values);
  return s[Math.ceil((p / 100) * s.length) - 1];
}

export function summarize(values: readonly number[]): Summary {
  const s = sorted(values);
  return {
    n: s.length,
    median: median(s),
    min: s[0],
    max: s[s.length - 1],
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

/**
 * How the measured figure compares with its baseline, as a speed: 1 means as fast as the baseline,
 * 0.5 half as fast. For a rate (higher is better) that is figure / baseline; for a duration it is
 * baseline / figure, so every ratio in a report reads the same way.
 */
export function speedRatio(figure: number, baseline: number, higherIsBetter: boolean): number {
  if (!(figure > 0 && baseline > 0))
    throw new RangeError(`a ratio needs positive values (figure ${figure}, baseline ${baseline})`);
  return higherIsBetter ? figure / baseline : baseline / figure;
}

/** A rate in units per second from a count and a duration in milliseconds. */
export function perSecond(count: number, elapsedMs: number): number {
  if (!(elapsedMs > 0)) throw new RangeError(`elapsed time must be positive, not ${elapsedMs} ms`);
  return (count * 1000) / elapsedMs;
}
