import type { BenchEnvironment } from './environment';
import type { BenchOptions, BenchSizes } from './options';
import type { Progress } from './progress';
import { speedRatio, summarize, type Summary } from './stats';

export interface FigureSpec {
  label: string;
  unit: string;
  higherIsBetter: boolean;
  /** Which statistic of the samples the figure is (default the median). */
  stat?: 'median' | 'p50' | 'p99';
}

export interface FigureResult extends FigureSpec {
  samples: number[];
  summary: Summary;
  baseline?: { label: string; samples: number[]; summary: Summary };
  /** Speed relative to the baseline (1 = as fast), from the figure's statistic and the baseline's median. */
  ratio?: number;
}

export interface TargetResult {
  text: string;
  /** null when the run could not decide (a figure is missing). */
  met: boolean | null;
}

export interface ScenarioResult {
  name: string;
  title: string;
  sizes: Record<string, number>;
  warmup: number;
  repetitions: number;
  figures: FigureResult[];
  target: TargetResult;
  notes: string[];
  durationMs: number;
}

export interface ScenarioContext {
  options: BenchOptions;
  sizes: BenchSizes;
  env: BenchEnvironment;
  progress: Progress;
  warmup: number;
  repetitions: number;
}

export interface Scenario {
  name: string;
  title: string;
  /** Whether it needs Postgres, RabbitMQ and S3 (a scenario that does not runs without them). */
  services: boolean;
  /** Counts used when `--reps` / `--warmup` are not given. */
  defaults: { warmup: number; repetitions: number };
  run(
    ctx: ScenarioContext,
  ): Promise<Omit<ScenarioResult, 'name' | 'title' | 'warmup' | 'repetitions' | 'durationMs'>>;
}

/**
 * Runs `measure` `warmup` times without keeping the result, then `repetitions` times, and returns the
 * kept results in order. Each call gets its index (warm-ups are negative) for unique names.
 */
export async function repeat<T>(
  ctx: ScenarioContext,
  what: string,
  measure: (index: number) => Promise<T>,
): Promise<T[]> {
  for (let i = 0; i < ctx.warmup; i++) {
    ctx.progress.update(`${what}: warm-up ${i + 1}/${ctx.warmup}`);
    await measure(-(i + 1));
  }
  const kept: T[] = [];
  for (let i = 0; i < ctx.repetitions; i++) {
    ctx.progress.update(`${what}: repetition ${i + 1}/${ctx.repetitions}`);
    kept.push(await measure(i));
  }
  return kept;
}

export function figure(
  spec: FigureSpec,
  samples: number[],
  baseline?: { label: string; samples: number[] },
): FigureResult {
  const result: FigureResult = { ...spec, samples, summary: summarize(samples) };
  if (baseline) {
    const b = summarize(baseline.samples);
    result.baseline = { label: baseline.label, samples: baseline.samples, summary: b };
    result.ratio = speedRatio(figureValue(result), b.median, spec.higherIsBetter);
  }
  return result;
}

/** The figure's headline value: its median, or the statistic it names. */
export function figureValue(f: FigureResult): number {
  return f.stat === undefined || f.stat === 'median' ? f.summary.median : f.summary[f.stat];
}

/** Target on the ratio of a figure to its baseline: `ratio >= min`. */
export function ratioTarget(f: FigureResult, min: number): TargetResult {
  return { text: `ratio >= ${min}`, met: f.ratio === undefined ? null : f.ratio >= min };
}
