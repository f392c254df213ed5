import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Where the figures came from: they only mean something next to this. */
export interface MachineInfo {
  nproc: number;
  memoryGiB: number;
  cpuModel: string;
  node: string;
  postgres: string;
  sqlite: string;
  kernel: string;
  loadAverage: number[];
}

export function cpuModel(cpuinfo: string): string {
  const line = cpuinfo.split('\n').find((l) => /^model name\s*:/.test(l));
  return line ? line.replace(/^model name\s*:\s*/, '').trim() : 'unknown';
}

export function machineInfo(postgresVersion: string, sqliteVersion: string): MachineInfo {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpu = cpuModel(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    // Not Linux: os.cpus() said it already.
  }
  let nproc = os.availableParallelism();
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {
    // nproc missing: Node's count is the same thing.
  }
  return {
    nproc,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    cpuModel: cpu,
    node: process.version,
    postgres: postgresVersion,
    sqlite: sqliteVersion,
    kernel: `${os.type()} ${os.release()}`,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export function describeMachine(m: MachineInfo): string {
  return (
    `${m.nproc} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.postgres}, SQLite ${m.sqlite}, ` +
    `load average at start ${m.loadAverage.join(' ')}`
  );
}
