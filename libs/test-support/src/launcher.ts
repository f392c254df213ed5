import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { registerChild } from './child-reaper';
import { TestSupportError, TestSupportErrorCode } from './errors';
import type { S3Service } from './services';
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

export interface StackPorts {
  gateway: number;
  admin: number;
  inboxStore: number;
  registryHealth: number;
  applierHealth: number;
  routerHealth: number;
}

export interface LaunchConfig {
  /** Repository root: services run from `services/<name>/dist/main.js` under it. */
  repoRoot: string;
  databaseUrl: string;
  amqpUrl: string;
  s3: S3Service;
  queuePrefix: string;
  bucketPrefix: string;
  adminToken: string;
  /** SESSION_KEY and INTERNAL_TOKEN; `generateStackSecrets()` makes strong ones. */
  sessionKey: string;
  internalToken: string;
  /**
   * The gateway serves HTTPS with this certificate and key on both ports; health probes and the
   * stack's URLs then use https and trust `caFile`.
   */
  gatewayTls?: { certFile: string; keyFile: string; caFile: string };
  ports: StackPorts;
  /** Which services to run (kept in launch order); default all. */
  services?: readonly ServerService[];
  /** Extra environment for every service, applied last. */
  env?: Record<string, string>;
  /** Where `<service>.log` files go. */
  logDir: string;
  /** How long one service may take to answer /healthz with 200; default 60 s. */
  readyTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL; default 10 s. */
  stopTimeoutMs?: number;
  /** Every line a service prints, as it prints it. */
  onOutput?: (service: ServerService, line: string) => void;
  /** A service exited without being asked to (crash, or killed from outside). */
  onUnexpectedExit?: (service: ServerService, code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface Stack {
  gatewayUrl: string;
  adminUrl: string;
  adminToken: string;
  /** The service token internal endpoints require (INTERNAL_TOKEN). */
  internalToken: string;
  inboxStoreUrl: string;
  /** GET /healthz and GET /metrics of each service. */
  endpoints: Record<ServerService, { health: string; metrics: string }>;
  databaseUrl: string;
  queuePrefix: string;
  bucketPrefix: string;
  /** The environment given to every service (without per-service HEALTH_PORT). */
  env: Record<string, string>;
  logDir: string;
  /** SIGTERM to every service, SIGKILL after the stop deadline; resolves when all have exited. */
  stop(): Promise<void>;
  /** SIGKILL one service and wait until it is gone: a crash, for recovery tests. */
  kill(service: ServerService): Promise<void>;
  /** Stop one service gracefully (SIGTERM, SIGKILL after the stop deadline); the others keep running. */
  stopService(service: ServerService): Promise<void>;
  /** Start a stopped or killed service again and wait until it is healthy; no-op when it runs. */
  startService(service: ServerService): Promise<void>;
  /** Stop (gracefully) if running, start again, wait until healthy. */
  restart(service: ServerService): Promise<void>;
  /** Everything the service printed so far (all its runs). */
  logs(service: ServerService): string;
  logFile(service: ServerService): string;
  isRunning(service: ServerService): boolean;
}

const LOG_TAIL_LINES = 40;

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Run {
  child: ChildProcess;
  exit?: ExitInfo;
  exited: Promise<ExitInfo>;
  stopRequested: boolean;
}

/** Starts the configured services one by one, each once healthy, and returns handles to manage them. */
export async function launchStack(config: LaunchConfig): Promise<Stack> {
  const services = SERVER_SERVICES.filter((name) => (config.services ?? SERVER_SERVICES).includes(name));
  for (const name of config.services ?? []) {
    if (!SERVER_SERVICES.includes(name)) {
      throw new TestSupportError(
        TestSupportErrorCode.InvalidOption,
        `unknown service "${String(name)}"; known: ${SERVER_SERVICES.join(', ')}`,
      );
    }
  }
  for (const name of services) assertBuilt(config.repoRoot, name);
  mkdirSync(config.logDir, { recursive: true });

  const commonEnv = stackEnv(config);
  const runs = new Map<ServerService, Run>();
  const readyTimeoutMs = config.readyTimeoutMs ?? 60_000;
  const stopTimeoutMs = config.stopTimeoutMs ?? 10_000;
  const logFile = (name: ServerService) => join(config.logDir, `${name}.log`);

  const start = async (name: ServerService) => {
    const run = spawnService(config, name, { ...commonEnv, ...serviceEnv(config, name) }, logFile(name));
    runs.set(name, run);
    await waitHealthy(name, run, config, logFile(name), readyTimeoutMs);
  };
  const stopOne = async (name: ServerService, signal: NodeJS.Signals) => {
    const run = runs.get(name);
    if (!run || run.exit) return;
    run.stopRequested = true;
    run.child.kill(signal);
    if (signal === 'SIGKILL') {
      await run.exited;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), stopTimeoutMs);
    });
    const outcome = await Promise.race([run.exited, deadline]);
    clearTimeout(timer);
    if (outcome === 'late') {
      run.child.kill('SIGKILL');
      await run.exited;
    }
  };
  const stopAll = async () => {
    await Promise.all([...runs.keys()].map((name) => stopOne(name, 'SIGTERM')));
  };

  try {
    for (const name of services) await start(name);
  } catch (error) {
    await stopAll();
    throw error;
  }

  const scheme = config.gatewayTls ? 'https' : 'http';
  return {
    gatewayUrl: `${scheme}://127.0.0.1:${config.ports.gateway}`,
    adminUrl: `${scheme}://127.0.0.1:${config.ports.admin}`,
    adminToken: config.adminToken,
    internalToken: config.internalToken,
    inboxStoreUrl: commonEnv.INBOX_STORE_URL,
    endpoints: serviceEndpoints(config.ports),
    databaseUrl: config.databaseUrl,
    queuePrefix: config.queuePrefix,
    bucketPrefix: config.bucketPrefix,
    env: commonEnv,
    logDir: config.logDir,
    stop: stopAll,
    kill: async (name) => stopOne(knownService(name, services), 'SIGKILL'),
    stopService: async (name) => stopOne(knownService(name, services), 'SIGTERM'),
    async startService(name) {
      const run = runs.get(knownService(name, services));
      if (run && !run.exit) return;
      await start(name);
    },
    async restart(name) {
      await stopOne(knownService(name, services), 'SIGTERM');
      await start(name);
    },
    logs: (name) => (existsSync(logFile(name)) ? readFileSync(logFile(name), 'utf8') : ''),
    logFile,
    isRunning: (name) => {
      const run = runs.get(name);
      return run !== undefined && run.exit === undefined;
    },
  };

  function spawnService(
    cfg: LaunchConfig,
    name: ServerService,
    env: Record<string, string>,
    file: string,
  ): Run {
    const fd = openSync(file, 'a');
    writeSync(fd, `=== ${name} starting at ${new Date().toISOString()} ===\n`);
    const child = spawn(process.execPath, [mainPath(cfg.repoRoot, name)], {
      cwd: cfg.repoRoot,
      // Plain text: the logs are read by people in files and in error messages, not on a terminal.
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    registerChild(child);
    const run: Run = {
      child,
      stopRequested: false,
      exited: new Promise<ExitInfo>((resolve) => {
        let settled = false;
        const finish = (info: ExitInfo) => {
          if (settled) return;
          settled = true;
          run.exit = info;
          writeSync(fd, `=== ${name} exited (code ${info.code}, signal ${info.signal}) ===\n`);
          closeSync(fd);
          if (!run.stopRequested) cfg.onUnexpectedExit?.(name, info.code, info.signal);
          resolve(info);
        };
        // 'close' comes after the last output, so the log is complete when the run counts as ended.
        child.once('close', (code, signal) => finish({ code, signal }));
        child.once('error', (error) => {
          writeSync(fd, `=== could not start ${name}: ${error.message} ===\n`);
          finish({ code: null, signal: null });
        });
      }),
    };
    const onOutput = cfg.onOutput;
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream?.on('data', (chunk: Buffer) => {
        writeSync(fd, chunk);
        if (!onOutput) return;
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) onOutput(name, line);
      });
      stream?.on('end', () => {
        if (onOutput && pending) onOutput(name, pending);
      });
    }
    return run;
  }
}

/** Strong random values for the stack's own secrets, as a deployment must have them. */
export function generateStackSecrets(): { adminToken: string; sessionKey: string; internalToken: string } {
  const random = () => randomBytes(32).toString('base64url');
  return { adminToken: random(), sessionKey: random(), internalToken: random() };
}

/** The environment every service gets: backing services, prefixes, ports and the stack's secrets. */
export function stackEnv(config: LaunchConfig): Record<string, string> {
  return {
    DATABASE_URL: config.databaseUrl,
    AMQP_URL: config.amqpUrl,
    S3_ENDPOINT: config.s3.endpoint,
    S3_ACCESS_KEY: config.s3.accessKey,
    S3_SECRET_KEY: config.s3.secretKey,
    S3_REGION: config.s3.region,
    QUEUE_PREFIX: config.queuePrefix,
    S3_BUCKET_PREFIX: config.bucketPrefix,
    GATEWAY_PORT: String(config.ports.gateway),
    ADMIN_PORT: String(config.ports.admin),
    ADMIN_TOKEN: config.adminToken,
    SESSION_KEY: config.sessionKey,
    INTERNAL_TOKEN: config.internalToken,
    INBOX_STORE_PORT: String(config.ports.inboxStore),
    INBOX_STORE_URL: `http://127.0.0.1:${config.ports.inboxStore}`,
    ...(config.gatewayTls && {
      TLS_CERT_FILE: config.gatewayTls.certFile,
      TLS_KEY_FILE: config.gatewayTls.keyFile,
    }),
    ...config.env,
  };
}

/**
 * Where each service answers `GET /healthz` and `GET /metrics` (the gateway serves its metrics on
 * the admin port, which stays internal; the others on their health or HTTP port).
 */
export function serviceEndpoints(
  ports: StackPorts,
): Record<ServerService, { health: string; metrics: string }> {
  const local = (port: number, path: string) => `http://127.0.0.1:${port}${path}`;
  return Object.fromEntries(
    SERVER_SERVICES.map((name) => [
      name,
      {
        health: local(healthPort(name, ports), '/healthz'),
        metrics: local(name === 'sync-gateway' ? ports.admin : healthPort(name, ports), '/metrics'),
      },
    ]),
  ) as Record<ServerService, { health: string; metrics: string }>;
}

/** The port on which a service answers GET /healthz. */
export function healthPort(name: ServerService, ports: StackPorts): number {
  switch (name) {
    case 'client-registry':
      return ports.registryHealth;
    case 'inbox-store':
      return ports.inboxStore;
    case 'applier':
      return ports.applierHealth;
    case 'router':
      return ports.routerHealth;
    case 'sync-gateway':
      return ports.gateway;
  }
}

function serviceEnv(config: LaunchConfig, name: ServerService): Record<string, string> {
  switch (name) {
    case 'client-registry':
    case 'applier':
    case 'router':
      return { HEALTH_PORT: String(healthPort(name, config.ports)) };
    case 'inbox-store':
    case 'sync-gateway':
      return {};
  }
}

function mainPath(repoRoot: string, name: ServerService): string {
  return join(repoRoot, 'services', name, 'dist', 'main.js');
}

function assertBuilt(repoRoot: string, name: ServerService): void {
  const main = mainPath(repoRoot, name);
  if (!existsSync(main)) {
    throw new TestSupportError(
      TestSupportErrorCode.ServiceNotBuilt,
      `${name} is not built: ${main} does not exist; run \`npm run build\` first`,
    );
  }
}

function knownService(name: ServerService, launched: readonly ServerService[]): ServerService {
  if (launched.includes(name)) return name;
  throw new TestSupportError(
    TestSupportErrorCode.InvalidOption,
    `service "${String(name)}" is not part of this stack (running: ${launched.join(', ')})`,
  );
}

async function waitHealthy(
  name: ServerService,
  run: Run,
  config: LaunchConfig,
  logFile: string,
  timeoutMs: number,
): Promise<void> {
  const ports = config.ports;
  const tls = name === 'sync-gateway' ? config.gatewayTls : undefined;
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${healthPort(name, ports)}/healthz`;
  const ca = tls ? readFileSync(tls.caFile) : undefined;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    if (run.exit) {
      throw startFailure(
        `${name} exited before it became healthy (code ${run.exit.code}, signal ${run.exit.signal})`,
        logFile,
      );
    }
    try {
      const status = await probe(url, ca);
      if (status === 200) break;
      last = `last answer ${status}`;
    } catch (error) {
      last = `last error: ${describeFetchError(error)}`;
    }
    if (Date.now() >= deadline) {
      throw startFailure(
        `${name} did not answer GET ${url} with 200 within ${timeoutMs} ms (${last})`,
        logFile,
      );
    }
    await delay(100);
  }
  // The gateway also serves the admin API on its own port; both must be listening before tests use it.
  if (name === 'sync-gateway') {
    while (!(await acceptsConnections(ports.admin))) {
      if (run.exit || Date.now() >= deadline) {
        throw startFailure(`${name} is healthy but does not listen on ADMIN_PORT ${ports.admin}`, logFile);
      }
      await delay(100);
    }
  }
}

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
