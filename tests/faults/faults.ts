import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { delay, SERVER_SERVICES, waitFor, type ServerService } from '@outpost/test-support';
import type { FaultWorld } from './fault-world';

/**
 * The faults the suite injects, one at a time, at moments the seed chooses. Each one breaks
 * something and puts it back after a short hold: a service killed with SIGKILL and started again,
 * the agents' path to the gateway cut, stalled or slowed, the stack's path to Postgres or
 * RabbitMQ cut, its S3 server stopped and started with its objects. Restarting the machine's
 * Postgres and RabbitMQ themselves disturbs every other test on it, so those two run only when
 * OUTPOST_FAULTS_RESTART_SHARED=1 (with OUTPOST_FAULTS_POSTGRES_RESTART and
 * OUTPOST_FAULTS_RABBITMQ_RESTART as the commands, if the defaults do not fit the machine);
 * `private-servers.sh` beside this file starts a Postgres and a RabbitMQ of the suite's own for that.
 */

export const LOCAL_FAULTS = [
  ...SERVER_SERVICES.map((s) => `kill ${s}` as const),
  'gateway cut',
  'gateway stall',
  'gateway slow',
  'postgres cut',
  'rabbitmq cut',
  's3 restart',
] as const;
export const SHARED_FAULTS = ['postgres restart', 'rabbitmq restart'] as const;
export type FaultKind = (typeof LOCAL_FAULTS)[number] | (typeof SHARED_FAULTS)[number] | 'agent kill';

const restartShared = process.env.OUTPOST_FAULTS_RESTART_SHARED === '1';
const POSTGRES_RESTART = process.env.OUTPOST_FAULTS_POSTGRES_RESTART ?? 'pg_ctlcluster 15 main restart';
const RABBITMQ_RESTART =
  process.env.OUTPOST_FAULTS_RABBITMQ_RESTART ?? 'rabbitmqctl stop_app && rabbitmqctl start_app';

export function faultKinds(): FaultKind[] {
  return restartShared ? [...LOCAL_FAULTS, ...SHARED_FAULTS] : [...LOCAL_FAULTS];
}

/** Every kind once in a seeded order, then again in another: each kind comes up early in a run. */
export function faultDeck(rand: () => number, kinds: readonly FaultKind[]): () => FaultKind {
  let deck: FaultKind[] = [];
  return () => {
    if (deck.length === 0) deck = shuffle(rand, [...kinds]);
    return deck.pop() as FaultKind;
  };
}

export class FaultInjector {
  readonly counts = new Map<FaultKind, number>();
  /** Services that exited without being killed by the suite: each is started again and counted. */
  readonly unexpectedExits = new Map<ServerService, number>();
  /** For each such exit: the fault before it and the end of the service's log. */
  readonly exitNotes: string[] = [];
  private last: FaultKind | null = null;

  constructor(
    private readonly world: FaultWorld,
    private readonly rand: () => number,
  ) {}

  count(kind: FaultKind): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  /** Breaks one thing, holds it broken for a random 0.3-2.5 s, then puts it back. */
  async inject(kind: FaultKind): Promise<void> {
    const { stack, proxies, s3 } = this.world;
    const hold = () => delay(300 + Math.floor(this.rand() * 2_200));
    this.count(kind);
    this.last = kind;
    switch (kind) {
      case 'kill client-registry':
      case 'kill inbox-store':
      case 'kill applier':
      case 'kill router':
      case 'kill sync-gateway': {
        const service = kind.slice('kill '.length) as ServerService;
        await stack.kill(service);
        await hold();
        await stack.startService(service);
        return;
      }
      case 'gateway cut':
      case 'postgres cut':
      case 'rabbitmq cut': {
        const proxy = proxies[kind.split(' ')[0] as 'gateway' | 'postgres' | 'rabbitmq'];
        await proxy.cut();
        await hold();
        await proxy.restore();
        return;
      }
      case 'gateway stall':
        proxies.gateway.stall();
        await hold();
        await proxies.gateway.restore();
        return;
      case 'gateway slow':
        // A few kilobytes a second: an upload or a download in flight takes seconds instead of milliseconds.
        proxies.gateway.slow(2_000 + Math.floor(this.rand() * 30_000));
        await hold();
        await delay(1_000);
        await proxies.gateway.restore();
        return;
      case 's3 restart':
        await s3.stop();
        await hold();
        await s3.start();
        return;
      case 'postgres restart':
        await shell(POSTGRES_RESTART);
        return;
      case 'rabbitmq restart':
        await shell(RABBITMQ_RESTART);
        return;
      case 'agent kill':
        throw new Error('an agent is killed by the sync that runs it, not by the injector');
    }
  }

  /**
   * Starts again every service that is not running although the suite did not kill it (a crash
   * on a lost dependency), and counts it: such exits are what the suite is there to find.
   */
  async reviveCrashed(): Promise<void> {
    for (const service of SERVER_SERVICES) {
      if (this.world.stack.isRunning(service)) continue;
      this.unexpectedExits.set(service, (this.unexpectedExits.get(service) ?? 0) + 1);
      const log = this.world.stack.logs(service).trimEnd().split('\n').slice(-15).join('\n');
      this.exitNotes.push(`${service} exited after "${this.last}":\n${log}`);
      await this.world.stack.startService(service);
    }
  }

  /** Every path open and every service answering its health check. */
  async healed(timeoutMs: number): Promise<void> {
    await this.world.heal();
    await this.reviveCrashed();
    for (const service of SERVER_SERVICES) {
      await waitFor(
        async () => {
          try {
            const res = await fetch(this.world.stack.endpoints[service].health, {
              signal: AbortSignal.timeout(5_000),
            });
            return res.status === 200;
          } catch {
            return false;
          }
        },
        { timeoutMs, description: `${service} healthy after the faults` },
      );
    }
  }
}

const AGENT_BIN = path.resolve(__dirname, '../../client-agent/bin/sync-agent.js');
export type AgentCrash = 'after-upload' | 'mid-download' | 'timer';

/**
 * Runs `sync-agent sync` for a laptop folder in a process of its own and makes it die abruptly:
 * at one of the agent's crash points, or by SIGKILL after `killAfterMs`. Resolves with whether
 * it died (a crash point is not reached when there is nothing to upload or download).
 */
export function crashingSync(dir: string, crash: AgentCrash, killAfterMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AGENT_BIN, 'sync', '--dir', dir, '--json'], {
      env: { ...process.env, ...(crash === 'timer' ? {} : { SYNC_AGENT_TEST_CRASH: crash }) },
      stdio: 'ignore',
    });
    const timer = crash === 'timer' ? setTimeout(() => child.kill('SIGKILL'), killAfterMs) : undefined;
    child.once('error', reject);
    child.once('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL');
    });
  });
}

function shell(command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', command], { timeout: 120_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`${command} failed: ${stderr || error.message}`)) : resolve(),
    );
  });
}

export function shuffle<T>(rand: () => number, items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
