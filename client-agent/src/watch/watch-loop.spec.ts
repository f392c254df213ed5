import { AgentError, AgentErrorCode } from '../errors';
import type { SyncSummary } from '../sync/sync-session';
import { backoffDelay, WatchLoop, type WatchEvent, type WatchOptions } from './watch-loop';

const opts: WatchOptions = {
  intervalMs: 60_000,
  quietPeriodMs: 2_000,
  pollMs: 500,
  minBackoffMs: 1_000,
  maxBackoffMs: 30_000,
};

const summary: SyncSummary = {
  uploaded: { files: 1, txns: 1, bytes: 10 },
  downloaded: { files: 0, txns: 0, bytes: 0 },
  alreadyOnServer: 0,
  conflicts: 0,
  refused: 0,
  durationMs: 5,
};

/**
 * A virtual clock: sleep() moves time forward at once. `script(t)` says how many local changes are
 * pending at time t; `outcome(n)` decides the n-th sync. The loop is stopped after `stopAfter` syncs.
 */
function harness(options: {
  script?: (t: number) => number;
  outcome?: (n: number) => 'ok' | 'unreachable' | 'refused';
  stopAfter: number;
}) {
  let t = 0;
  let syncs = 0;
  const events: Array<WatchEvent & { t: number }> = [];
  const loop: WatchLoop = new WatchLoop(
    {
      sync: async () => {
        syncs++;
        const outcome = options.outcome?.(syncs) ?? 'ok';
        if (syncs >= options.stopAfter) loop.stop();
        if (outcome === 'unreachable') throw new AgentError(AgentErrorCode.ServerUnreachable, 'ECONNREFUSED');
        if (outcome === 'refused') throw new AgentError(AgentErrorCode.ServerError, 'deactivated');
        return summary;
      },
      pendingChanges: async () => options.script?.(t) ?? 0,
      now: () => t,
      sleep: async (ms) => {
        t += ms;
      },
      random: () => 0.5,
      report: (event) => events.push({ ...event, t }),
    },
    opts,
  );
  return { loop, events, syncs: () => syncs };
}

describe('backoffDelay', () => {
  it('doubles from the minimum up to the cap, with half of it random', () => {
    expect(backoffDelay(1, opts, () => 0)).toBe(500);
    expect(backoffDelay(1, opts, () => 1)).toBe(1_000);
    expect(backoffDelay(3, opts, () => 1)).toBe(4_000);
    expect(backoffDelay(10, opts, () => 1)).toBe(30_000);
    expect(backoffDelay(10, opts, () => 0)).toBe(15_000);
    expect(backoffDelay(1_000, opts, () => 0.5)).toBe(22_500);
  });
});

describe('WatchLoop', () => {
  it('syncs at start and then on the schedule', async () => {
    const h = harness({ stopAfter: 3 });
    await h.loop.run();
    const syncs = h.events.filter((e) => e.event === 'syncing');
    expect(syncs.map((e) => [e.t, e.event === 'syncing' && e.reason])).toEqual([
      [0, 'start'],
      [60_000, 'schedule'],
      [120_000, 'schedule'],
    ]);
    // Stopped during the third sync: it finishes, then nothing more.
    expect(h.events.slice(-3).map((e) => e.event)).toEqual(['stopping', 'synced', 'stopped']);
  });

  it('syncs local changes once they have been quiet for the quiet period', async () => {
    // One change at 10 s, another at 11 s: the sync waits for 2 s without a new one.
    const h = harness({ script: (t) => (t < 10_000 ? 0 : t < 11_000 ? 1 : 2), stopAfter: 2 });
    await h.loop.run();
    const second = h.events.filter((e) => e.event === 'syncing')[1];
    expect(second).toMatchObject({ reason: 'local-changes' });
    expect(second.t).toBeGreaterThanOrEqual(13_000);
    expect(second.t).toBeLessThan(14_000);
  });

  it('backs off with growing delays while the server is unreachable, then returns to the schedule', async () => {
    const h = harness({ outcome: (n) => (n <= 4 ? 'unreachable' : 'ok'), stopAfter: 6 });
    await h.loop.run();
    const failures = h.events.flatMap((e) => (e.event === 'failed' ? [e] : []));
    expect(failures.map((f) => [f.attempt, f.retryInMs, f.unreachable])).toEqual([
      [1, 750, true],
      [2, 1_500, true],
      [3, 3_000, true],
      [4, 6_000, true],
    ]);
    const syncing = h.events.flatMap((e) => (e.event === 'syncing' ? [e.reason] : []));
    expect(syncing).toEqual(['start', 'retry', 'retry', 'retry', 'retry', 'schedule']);
  });

  it('does not hurry a refused sync: it waits for the schedule', async () => {
    const h = harness({ outcome: () => 'refused', script: () => 1, stopAfter: 2 });
    await h.loop.run();
    const failed = h.events.find((e) => e.event === 'failed');
    expect(failed).toMatchObject({ unreachable: false, retryInMs: 60_000, code: 'SERVER_ERROR' });
  });

  it('stops while waiting without another sync', async () => {
    const h = harness({ stopAfter: 99 });
    const running = h.loop.run();
    h.loop.stop();
    await running;
    expect(h.syncs()).toBe(1);
    expect(h.events.map((e) => e.event)).toEqual(['started', 'syncing', 'stopping', 'synced', 'stopped']);
  });
});
