import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { registerChild } from './child-reaper';
import { TestSupportError, TestSupportErrorCode } from './errors';
import { delay } from './wait-for';

/** The server services in launch order: each one's dependencies come before it. */
export const SERVER_SERVICES = [
  'client-registry',
  'inbox-store',
  'applier',
  'router',
  'sync-gateway',
] as const;
export type ServerService = (typeof SERVER_SERVICES)[number];

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnServiceOptions {
  /** Repository root: the service runs from `services/<name>/dist/main.js` under it. */
  repoRoot: string;
  name: ServerService;
  env: Record<string, string>;
  /** Everything the process prints is appended here, between start and exit markers. */
  logFile: string;
  /**
   * Whether the service also sees this process's environment (default true). Without it the
   * service gets `env` and PATH only: what its own configuration check makes of exactly those.
   */
  inheritEnv?: boolean;
  /** How long `stop()` waits after SIGTERM before SIGKILL; default 10 s. */
  stopTimeoutMs?: number;
  /** Every line the process prints, as it prints it. */
  onOutput?: (line: string) => void;
  /** The process exited without `stop()` or `kill()` (crash, or killed from outside). */
  onUnexpectedExit?: (exit: ExitInfo) => void;
}

/** One run of a service process. */
export interface ServiceProcess {
  name: ServerService;
  logFile: string;
  /** This run's part of the log file so far (the file holds every run). */
  output(): string;
  /** Resolves once the process is gone and its output is in the log. */
  exited: Promise<ExitInfo>;
  isRunning(): boolean;
  /** SIGTERM, SIGKILL after the stop deadline; resolves once it has exited. */
  stop(): Promise<void>;
  /** SIGKILL (a crash); resolves once it has exited. */
  kill(): Promise<void>;
}

/**
 * Starts `node services/<name>/dist/main.js`, logging to `logFile`. The child reaper kills it
 * if this process ends first, however that happens.
 */
export function spawnService(options: SpawnServiceOptions): ServiceProcess {
  const { name, logFile } = options;
  assertBuilt(options.repoRoot, name);
  const base = options.inheritEnv === false ? { PATH: process.env.PATH ?? '' } : process.env;
  // Read back from the file rather than held in memory: a long run prints a lot.
  const runStart = existsSync(logFile) ? statSync(logFile).size : 0;
  const fd = openSync(logFile, 'a');
  writeSync(fd, `=== ${name} starting at ${new Date().toISOString()} ===\n`);
  const child = spawn(process.execPath, [mainPath(options.repoRoot, name)], {
    cwd: options.repoRoot,
    // Plain text: the logs are read by people in files and in error messages, not on a terminal.
    env: { ...base, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  registerChild(child);
  let exit: ExitInfo | undefined;
  let stopRequested = false;
  const exited = new Promise<ExitInfo>((resolve) => {
    const finish = (info: ExitInfo) => {
      if (exit) return;
      exit = info;
      writeSync(fd, `=== ${name} exited (code ${info.code}, signal ${info.signal}) ===\n`);
      closeSync(fd);
      if (!stopRequested) options.onUnexpectedExit?.(info);
      resolve(info);
    };
    // 'close' comes after the last output, so the log is complete when the run counts as ended.
    child.once('close', (code, signal) => finish({ code, signal }));
    child.once('error', (error) => {
      writeSync(fd, `=== could not start ${name}: ${error.message} ===\n`);
      finish({ code: null, signal: null });
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream?.on('data', (chunk: Buffer) => {
      writeSync(fd, chunk);
      if (!options.onOutput) return;
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) options.onOutput(line);
    });
    stream?.on('end', () => {
      if (options.onOutput && pending) options.onOutput(pending);
    });
  }

  const signal = async (sig: NodeJS.Signals) => {
    if (exit) return;
    stopRequested = true;
    child.kill(sig);
    if (sig === 'SIGKILL') {
      await exited;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), options.stopTimeoutMs ?? 10_000);
    });
    const outcome = await Promise.race([exited, deadline]);
    clearTimeout(timer);
    if (outcome === 'late') {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return {
    name,
    logFile,
    output: () => readFileSync(logFile).subarray(runStart).toString('utf8'),
    exited,
    isRunning: () => exit === undefined,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
  };
}

export interface HealthCheck {
  /** GET this until it answers 200. */
  url: string;
  /** CA to trust for an https `url`. */
  ca?: Buffer;
  /** A port that must also accept connections (the gateway's admin port). */
  alsoListening?: number;
  timeoutMs: number;
}

/** Resolves once the service answers; fails with its log's tail when it exits or the deadline passes. */
export async function waitHealthy(proc: ServiceProcess, check: HealthCheck): Promise<void> {
  const deadline = Date.now() + check.timeoutMs;
  const gone = (exit: ExitInfo) =>
    startFailure(
      `${proc.name} exited before it became healthy (code ${exit.code}, signal ${exit.signal})`,
      proc.logFile,
    );
  let exit: ExitInfo | undefined;
  void proc.exited.then((info) => (exit = info));
  let last = 'no answer yet';
  for (;;) {
    if (exit) throw gone(exit);
    try {
      const status = await probe(check.url, check.ca);
      if (status === 200) break;
      last = `last answer ${status}`;
    } catch (error) {
      last = `last error: ${describeFetchError(error)}`;
    }
    if (Date.now() >= deadline) {
      throw startFailure(
        `${proc.name} did not answer GET ${check.url} with 200 within ${check.timeoutMs} ms (${last})`,
        proc.logFile,
      );
    }
    await delay(100);
  }
  if (check.alsoListening === undefined) return;
  while (!(await acceptsConnections(check.alsoListening))) {
    if (exit) throw gone(exit);
    if (Date.now() >= deadline) {
      throw startFailure(
        `${proc.name} is healthy but does not listen on port ${check.alsoListening}`,
        proc.logFile,
      );
    }
    await delay(100);
  }
}

const LOG_TAIL_LINES = 40;

function startFailure(what: string, logFile: string): TestSupportError {
  return new TestSupportError(
    TestSupportErrorCode.ServiceStartFailed,
    `${what}\nlog: ${logFile}\n--- last ${LOG_TAIL_LINES} lines ---\n${tail(logFile, LOG_TAIL_LINES)}`,
  );
}

/** The last `count` lines of a file, or a note that it is empty or missing. */
export function tail(file: string, count: number): string {
  if (!existsSync(file)) return '(no log file)';
  const lines = readFileSync(file, 'utf8').replace(/\n$/, '').split('\n');
  return lines.slice(-count).join('\n') || '(empty log)';
}

function mainPath(repoRoot: string, name: ServerService): string {
  return join(repoRoot, 'services', name, 'dist', 'main.js');
}

export function assertBuilt(repoRoot: string, name: ServerService): void {
  const main = mainPath(repoRoot, name);
  if (!existsSync(main)) {
    throw new TestSupportError(
      TestSupportErrorCode.ServiceNotBuilt,
      `${name} is not built: ${main} does not exist; run \`npm run build\` first`,
    );
  }
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as NodeJS.ErrnoException).code ?? error.message;
}

/** GET `url` (http, or https trusting `ca`) and resolve with the status code. */
function probe(url: string, ca: Buffer | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const transport = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = transport(url, { method: 'GET', ca, timeout: 2_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })));
    req.once('error', reject);
    req.end();
  });
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
