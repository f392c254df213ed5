import { readdirSync, readFileSync } from 'node:fs';

/** A field of /proc/<pid>/status in bytes (VmRSS: now, VmHWM: peak since the process started); null once it exited. */
export function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) * 1024 : null;
}

/**
 * The pid of the process running `script` whose environment holds `KEY=value`: how a service of one
 * stack is told apart from the same service of other stacks on the machine.
 */
export function findProcess(script: string, envEntry: string): number | null {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (!cmdline.includes(script)) continue;
      const environ = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (environ.includes(envEntry)) return Number(name);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return null;
}

/** Samples the resident set size of some processes and keeps each one's maximum. */
export class RssSampler {
  private readonly peaks = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: number[],
    intervalMs = 50,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    for (const pid of this.pids) {
      const rss = statusBytes(pid, 'VmRSS');
      if (rss !== null) this.peaks.set(pid, Math.max(rss, this.peaks.get(pid) ?? 0));
    }
  }

  /** Peak RSS seen per pid, in bytes. */
  stop(): Map<number, number> {
    clearInterval(this.timer);
    this.sample();
    return this.peaks;
  }
}

const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used so far; null once it exited. */
export function cpuSeconds(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command name (which may hold spaces) start at state: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Pids of every process whose command name (/proc/<pid>/comm) is `comm`, e.g. all Postgres backends. */
export function pidsByCommand(comm: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() === comm) pids.push(Number(name));
    } catch {
      // Gone.
    }
  }
  return pids;
}

/**
 * CPU seconds used by groups of processes over a window: how a wall-clock figure splits between
 * the processes of the stack. Groups given as commands are re-read at the end, so backends that
 * started during the window count (those that ended during it are lost).
 */
export class CpuMeter {
  private readonly start = new Map<number, number>();

  constructor(private readonly groups: Map<string, () => number[]>) {
    for (const pids of groups.values()) for (const pid of pids()) this.start.set(pid, cpuSeconds(pid) ?? 0);
  }

  stop(): Map<string, number> {
    const used = new Map<string, number>();
    for (const [group, pids] of this.groups) {
      let total = 0;
      for (const pid of pids()) total += Math.max(0, (cpuSeconds(pid) ?? 0) - (this.start.get(pid) ?? 0));
      used.set(group, total);
    }
    return used;
  }
}

/** The processes of one stack's services, found by their QUEUE_PREFIX. */
export function stackPids(queuePrefix: string, services: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const service of services) {
    const pid = findProcess(`services/${service}/dist/main.js`, `QUEUE_PREFIX=${queuePrefix}`);
    if (pid !== null) out.set(service, pid);
  }
  return out;
}

/**
 * A CPU meter over the bench process (in-process agents), each service of the stack, and every
 * Postgres and RabbitMQ process on the machine (shared with anything else running).
 */
export function stackCpuMeter(queuePrefix: string, extra: Record<string, number[]> = {}): CpuMeter {
  const groups = new Map<string, () => number[]>([['bench process (agents)', () => [process.pid]]]);
  for (const [service, pid] of stackPids(queuePrefix, [
    'client-registry',
    'inbox-store',
    'applier',
    'router',
    'sync-gateway',
  ])) {
    groups.set(service, () => [pid]);
  }
  for (const [name, pids] of Object.entries(extra)) groups.set(name, () => pids);
  groups.set('postgres (all)', () => pidsByCommand('postgres'));
  groups.set('rabbitmq', () => pidsByCommand('beam.smp'));
  return new CpuMeter(groups);
}

/** "applier 4.1 s, postgres (all) 3.2 s, ..." largest first. */
export function describeCpu(used: Map<string, number>, wallSeconds: number): string {
  const parts = [...used].sort((a, b) => b[1] - a[1]).map(([name, s]) => `${name} ${s.toFixed(1)}`);
  const total = [...used.values()].reduce((a, b) => a + b, 0);
  return `CPU seconds over ${wallSeconds.toFixed(1)} s wall (${total.toFixed(1)} s in all): ${parts.join(', ')}`;
}
