import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '@outpost/test-support';
import { exec } from './support/laptops';
import { createWorld, type World } from './support/world';

const AGENT_BIN = path.resolve(__dirname, '../client-agent/bin/sync-agent.js');

interface Watcher {
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** `sync-agent watch --json` in its own process, its JSON lines collected as they come. */
function watch(args: string[]): Watcher {
  const child = spawn(process.execPath, [AGENT_BIN, 'watch', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Array<Record<string, unknown>> = [];
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let end: number;
    while ((end = buffered.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buffered.slice(0, end)) as Record<string, unknown>);
      buffered = buffered.slice(end + 1);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, events, exited };
}

/** Every file under `dir`, relative, for checking that nothing was left half-written. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('sync-agent watch', () => {
  let world: World;
  const running: Watcher[] = [];

  beforeAll(async () => {
    world = await createWorld();
  }, 120_000);
  afterEach(() => {
    for (const w of running.splice(0)) w.child.kill('SIGKILL');
  });
  afterAll(() => world?.close());

  it('brings a local change to the server without anyone typing sync, and stops cleanly on SIGTERM', async () => {
    const dir = await world.laptop('watch-1', 'alice');
    const w = watch(['--dir', dir, '--interval', '600', '--quiet-period', '1']);
    running.push(w);
    await waitFor(() => w.events.some((e) => e.event === 'synced' && e.reason === 'start'), {
      timeoutMs: 30_000,
      description: 'the first sync of watch',
    });

    const id = randomUUID();
    await exec(dir, `INSERT INTO account (id, name, owner_login) VALUES ('${id}', 'Watched', 'alice')`);
    await waitFor(
      async () => (await world.db.query('SELECT name FROM account WHERE id = $1', [id])).rows[0]?.name,
      { timeoutMs: 30_000, description: 'the laptop change in Postgres' },
    );
    expect(w.events).toContainEqual(expect.objectContaining({ event: 'syncing', reason: 'local-changes' }));

    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(w.events.at(-1)).toMatchObject({ event: 'stopped' });
    // Nothing half-written (atomic writes leave `.NAME.tmp` behind when cut short) and no lock left.
    expect(filesUnder(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(path.join(dir, 'agent.lock'))).toBe(false);
  });

  it('backs off with jitter while the server is unreachable, and says so', async () => {
    const dir = await world.laptop('watch-2', 'bob', { extract: false });
    const w = watch([
      '--dir',
      dir,
      '--server',
      'http://127.0.0.1:9',
      '--interval',
      '600',
      '--max-backoff',
      '8',
    ]);
    running.push(w);
    const failures = await waitFor(
      () => {
        const failed = w.events.filter((e) => e.event === 'failed');
        return failed.length >= 3 ? failed : undefined;
      },
      { timeoutMs: 30_000, description: 'three failed tries' },
    );
    // Retry n waits between half and all of min(8 s, 2 s * 2^(n-1)).
    failures.slice(0, 3).forEach((f, i) => {
      const ceiling = Math.min(8_000, 2_000 * 2 ** i);
      expect(f).toMatchObject({ unreachable: true, attempt: i + 1, code: 'SERVER_UNREACHABLE' });
      expect(f.retryInMs).toBeGreaterThanOrEqual(ceiling / 2);
      expect(f.retryInMs).toBeLessThanOrEqual(ceiling);
    });
    w.child.kill('SIGINT');
    expect(await w.exited).toBe(0);
  });
});
