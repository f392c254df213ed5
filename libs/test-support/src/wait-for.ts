import { TestSupportError, TestSupportErrorCode } from './errors';

export interface WaitForOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 100 ms). */
  intervalMs?: number;
  /** What is being waited for, in words; it heads the timeout error. */
  description?: string;
}

/**
 * Polls `fn` until it returns a truthy value without throwing, and resolves with that value.
 * On timeout it throws a `WAIT_TIMED_OUT` error naming what was awaited and what `fn` last
 * returned or threw, which is usually the fastest way to see why an effect never happened.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const description = options.description ?? 'condition';
  const deadline = Date.now() + timeoutMs;
  let last: { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown } | undefined;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
      last = { kind: 'value', value };
    } catch (error) {
      last = { kind: 'error', error };
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    await delay(Math.min(intervalMs, remaining));
  }
  const lastText =
    last?.kind === 'error'
      ? `last error: ${describeError(last.error)}`
      : `last value: ${describeValue(last?.value)}`;
  const error = new TestSupportError(
    TestSupportErrorCode.WaitTimedOut,
    `timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${description}; ${lastText}`,
  );
  if (last?.kind === 'error') (error as Error & { cause?: unknown }).cause = last.error;
  throw error;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : describeValue(error);
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    const json = JSON.stringify(value);
    return json === undefined ? String(value) : json.length > 500 ? `${json.slice(0, 500)}…` : json;
  } catch {
    return String(value);
  }
}
