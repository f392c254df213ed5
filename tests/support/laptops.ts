import { waitFor } from '@outpost/test-support';
import { agentJson } from './cli';

/** Rows as `sync-agent query --json` prints them. */
export type Rows = Array<Record<string, unknown>>;

/** A write on the laptop, as its application would make it. */
export const exec = (dir: string, sql: string) => agentJson(['exec', '--dir', dir, sql]);
export const query = (dir: string, sql: string) => agentJson<Rows>(['query', '--dir', dir, sql]);
export const sync = <T = unknown>(dir: string) => agentJson<T>(['sync', '--dir', dir]);

/**
 * Syncs until the laptop's query returns the expected rows (or, given a function, the rows it
 * returns at that moment, such as the server's): the server applies and routes asynchronously.
 */
export async function syncUntil(
  dir: string,
  sql: string,
  expected: Rows | (() => Promise<Rows>),
): Promise<Rows> {
  return waitFor(
    async () => {
      await sync(dir);
      const [local, want] = await Promise.all([
        query(dir, sql),
        typeof expected === 'function' ? expected() : expected,
      ]);
      return JSON.stringify(local) === JSON.stringify(want) ? local : undefined;
    },
    // Generous: a server change reaches a laptop after the capture has it, which can take tens of
    // seconds on a loaded machine (see docs/reliability.md, capture latency).
    { timeoutMs: 150_000, intervalMs: 500, description: `${sql} on ${dir} to match the expected rows` },
  );
}
