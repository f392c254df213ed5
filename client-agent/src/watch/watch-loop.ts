import { AgentError } from '../errors';
import type { SyncSummary } from '../sync/sync-session';

/** What the loop reports; the command prints it as a status line or as JSON lines. */
export type WatchEvent =
  | { event: 'started'; intervalMs: number; quietPeriodMs: number }
  | { event: 'syncing'; reason: WatchReason }
  | { event: 'synced'; reason: WatchReason; summary: SyncSummary; nextInMs: number }
  | {
      event: 'failed';
      reason: WatchReason;
      code: string;
      message: string;
      /** Consecutive failures so far (1 on the first). */
      attempt: number;
      retryInMs: number;
      /** Whether the server could not be reached (then the loop backs off with jitter). */
      unreachable: boolean;
    }
  | { event: 'stopping' }
  | { event: 'stopped' };

export type WatchReason = 'start' | 'schedule' | 'local-changes' | 'retry';

export interface WatchOptions {
  intervalMs: number;
  /** Local changes are synced once nothing has changed for this long. */
  quietPeriodMs: number;
  /** How often the local log is looked at. */
  pollMs: number;
  /** First retry delay after an unreachable server; doubles per failure up to maxBackoffMs. */
  minBackoffMs: number;
  maxBackoffMs: number;
}

/** The outside world of the loop, so its rules are tested without a server or a clock. */
export interface WatchDeps {
  sync(): Promise<SyncSummary>;
  /** Local changes not yet extracted (the log's pending count). */
  pendingChanges(): Promise<number>;
  now(): number;
  /** Resolves after `ms`, or early when the loop is stopped. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  random(): number;
  report(event: WatchEvent): void;
}

/**
 * The delay before retry number `attempt` (1-based) of an unreachable server: exponential from
 * minBackoffMs, capped, with "equal jitter" (half fixed, half random) so a thousand laptops that
 * lost the server together do not come back in step.
 */
export function backoffDelay(attempt: number, opts: WatchOptions, random: () => number): number {
  const ceiling = Math.min(opts.maxBackoffMs, opts.minBackoffMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * Syncs at start, then every intervalMs, and soon after local changes once they have been quiet
 * for quietPeriodMs. A sync is never cut short: stop() waits for the one in progress, so no file is
 * left half-written and the folder lock is released.
 */
export class WatchLoop {
  private readonly stopController = new AbortController();

  constructor(
    private readonly deps: WatchDeps,
    private readonly opts: WatchOptions,
  ) {}

  stop(): void {
    if (!this.stopController.signal.aborted) {
      this.deps.report({ event: 'stopping' });
      this.stopController.abort();
    }
  }

  get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  async run(): Promise<void> {
    const { deps, opts } = this;
    deps.report({ event: 'started', intervalMs: opts.intervalMs, quietPeriodMs: opts.quietPeriodMs });
    let reason: WatchReason = 'start';
    let failures = 0;
    while (!this.stopped) {
      deps.report({ event: 'syncing', reason });
      let waitMs: number;
      let retrying = false;
      try {
        const summary = await deps.sync();
        failures = 0;
        waitMs = opts.intervalMs;
        deps.report({ event: 'synced', reason, summary, nextInMs: waitMs });
      } catch (err) {
        failures++;
        const unreachable = err instanceof AgentError && err.exitCode === 3;
        // An unreachable server is retried with backoff; a refusal waits for the schedule, as retrying
        // sooner would only be refused again.
        waitMs = unreachable ? backoffDelay(failures, opts, deps.random) : opts.intervalMs;
        retrying = unreachable;
        deps.report({
          event: 'failed',
          reason,
          code: err instanceof AgentError ? err.code : 'UNEXPECTED',
          message: err instanceof Error ? err.message : String(err),
          attempt: failures,
          retryInMs: waitMs,
          unreachable,
        });
      }
      if (this.stopped) break;
      reason = await this.waitForNext(waitMs, retrying);
    }
    deps.report({ event: 'stopped' });
  }

  /**
   * Waits until the schedule is due or local changes have been quiet long enough. During a backoff
   * local changes do not cut the wait short: the server is not there to take them.
   */
  private async waitForNext(waitMs: number, retrying: boolean): Promise<WatchReason> {
    const { deps, opts } = this;
    const signal = this.stopController.signal;
    const due = deps.now() + waitMs;
    let lastPending = -1;
    let changedAt = deps.now();
    while (!signal.aborted) {
      const now = deps.now();
      if (now >= due) return retrying ? 'retry' : 'schedule';
      if (!retrying) {
        // A busy store (another agent command holds it) is looked at again on the next poll.
        const pending = await deps.pendingChanges().catch(() => lastPending);
        if (pending !== lastPending) {
          lastPending = pending;
          changedAt = now;
        } else if (pending > 0 && now - changedAt >= opts.quietPeriodMs) {
          return 'local-changes';
        }
      }
      await deps.sleep(Math.min(opts.pollMs, due - now), signal);
    }
    return 'schedule';
  }
}
