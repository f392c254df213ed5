import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestSupportError, TestSupportErrorCode } from './errors';
import { freePorts } from './ports';
import {
  assertBuilt,
  SERVER_SERVICES,
  type ServerService,
  type ServiceProcess,
  spawnService,
  waitHealthy,
} from './service-process';
import type { S3Service } from './services';
import { healthPort, portEnv, replicaPorts, serviceEndpoints, stackEnv, type StackPorts } from './stack-env';

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
  /** Which services to run at launch (kept in launch order); default all. `startService` adds others. */
  services?: readonly ServerService[];
  /** Extra environment for every service, applied last. */
  env?: Record<string, string>;
  /** Extra environment for some services (their replicas too), on top of `env`. */
  serviceEnv?: Partial<Record<ServerService, Record<string, string>>>;
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

export interface StartServiceOptions {
  /** Extra environment for this run only (a restart keeps it), on top of the stack's. */
  env?: Record<string, string>;
  /** Wait until it answers /healthz with 200 (default true); false for a run expected to die. */
  waitHealthy?: boolean;
}

/** One more process of a stack service on its own ports: a scaled-out replica or a standby. */
export interface Replica extends ServiceProcess {
  /** Where it answers GET /healthz: the agent API for the gateway. */
  url: string;
  /** The gateway replica's admin API. */
  adminUrl?: string;
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
  /** SIGTERM to every service and replica, SIGKILL after the stop deadline; resolves when all have exited. */
  stop(): Promise<void>;
  /** SIGKILL one service and wait until it is gone: a crash, for recovery tests. */
  kill(service: ServerService): Promise<void>;
  /** Stop one service gracefully (SIGTERM, SIGKILL after the stop deadline); the others keep running. */
  stopService(service: ServerService): Promise<void>;
  /**
   * Start a service (stopped, killed, or not started at launch) and wait until it is healthy;
   * resolves with the running process, which is left as is when it already runs.
   */
  startService(service: ServerService, options?: StartServiceOptions): Promise<ServiceProcess>;
  /** Stop (gracefully) if running, start again with the same extra environment, wait until healthy. */
  restart(service: ServerService): Promise<void>;
  /** Start another process of `service` beside the stack's, on free ports; `stop()` stops it too. */
  startReplica(service: ServerService, options?: Pick<StartServiceOptions, 'env'>): Promise<Replica>;
  /** Everything the service printed so far (all its runs, replicas not included). */
  logs(service: ServerService): string;
  logFile(service: ServerService): string;
  isRunning(service: ServerService): boolean;
}

interface Slot {
  process: ServiceProcess;
  env: Record<string, string>;
}

/** Starts the configured services one by one, each once healthy, and returns handles to manage them. */
export async function launchStack(config: LaunchConfig): Promise<Stack> {
  for (const name of config.services ?? []) knownService(name);
  const services = SERVER_SERVICES.filter((name) => (config.services ?? SERVER_SERVICES).includes(name));
  for (const name of services) assertBuilt(config.repoRoot, name);
  mkdirSync(config.logDir, { recursive: true });

  const commonEnv = stackEnv(config);
  const slots = new Map<ServerService, Slot>();
  const replicas: Replica[] = [];
  const readyTimeoutMs = config.readyTimeoutMs ?? 60_000;
  const logFile = (name: ServerService) => join(config.logDir, `${name}.log`);
  const scheme = config.gatewayTls ? 'https' : 'http';
  const ca = config.gatewayTls ? readFileSync(config.gatewayTls.caFile) : undefined;

  const spawnRun = (
    name: ServerService,
    ports: StackPorts,
    file: string,
    env: Record<string, string>,
    replica = false,
  ) =>
    spawnService({
      repoRoot: config.repoRoot,
      name,
      env: { ...commonEnv, ...config.serviceEnv?.[name], ...portEnv(name, ports), ...env },
      logFile: file,
      stopTimeoutMs: config.stopTimeoutMs,
      onOutput: config.onOutput && ((line) => config.onOutput?.(name, line)),
      // A replica's end says nothing about the stack's own process of that service.
      onUnexpectedExit: replica
        ? undefined
        : (exit) => config.onUnexpectedExit?.(name, exit.code, exit.signal),
    });
  const ready = (proc: ServiceProcess, ports: StackPorts) => {
    const tls = proc.name === 'sync-gateway' && config.gatewayTls;
    return waitHealthy(proc, {
      url: `${tls ? 'https' : 'http'}://127.0.0.1:${healthPort(proc.name, ports)}/healthz`,
      ca: tls ? ca : undefined,
      // The gateway also serves the admin API on its own port; both must listen before tests use it.
      alsoListening: proc.name === 'sync-gateway' ? ports.admin : undefined,
      timeoutMs: readyTimeoutMs,
    });
  };
  const start = async (name: ServerService, options: StartServiceOptions = {}) => {
    const running = slots.get(name)?.process;
    if (running?.isRunning()) return running;
    knownService(name);
    const env = options.env ?? {};
    const proc = spawnRun(name, config.ports, logFile(name), env);
    // Kept before it is healthy: a start that fails leaves a process `stop()` must still end.
    slots.set(name, { process: proc, env });
    if (options.waitHealthy !== false) await ready(proc, config.ports);
    return proc;
  };
  const started = (name: ServerService): ServiceProcess => {
    const slot = slots.get(knownService(name));
    if (slot) return slot.process;
    throw new TestSupportError(
      TestSupportErrorCode.InvalidOption,
      `service "${name}" was never started in this stack (started: ${[...slots.keys()].join(', ') || 'none'})`,
    );
  };
  const stopAll = async () => {
    await Promise.all([...[...slots.values()].map((slot) => slot.process), ...replicas].map((p) => p.stop()));
  };

  try {
    for (const name of services) await start(name);
  } catch (error) {
    await stopAll();
    throw error;
  }

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
    kill: async (name) => started(name).kill(),
    stopService: async (name) => started(name).stop(),
    startService: start,
    async restart(name) {
      await started(name).stop();
      await start(name, { env: slots.get(name)?.env });
    },
    async startReplica(name, options = {}) {
      knownService(name);
      const [own, admin] = await freePorts(2);
      const ports = replicaPorts(name, config.ports, own, admin);
      const file = join(config.logDir, `${name}-replica-${replicas.length + 1}.log`);
      const proc = spawnRun(name, ports, file, options.env ?? {}, true);
      const replica: Replica = {
        ...proc,
        url: `${name === 'sync-gateway' ? scheme : 'http'}://127.0.0.1:${own}`,
        adminUrl: name === 'sync-gateway' ? `${scheme}://127.0.0.1:${admin}` : undefined,
      };
      replicas.push(replica);
      await ready(proc, ports);
      return replica;
    },
    logs: (name) => (existsSync(logFile(name)) ? readFileSync(logFile(name), 'utf8') : ''),
    logFile,
    isRunning: (name) => slots.get(name)?.process.isRunning() ?? false,
  };
}

function knownService(name: ServerService): ServerService {
  if (SERVER_SERVICES.includes(name)) return name;
  throw new TestSupportError(
    TestSupportErrorCode.InvalidOption,
    `unknown service "${String(name)}"; known: ${SERVER_SERVICES.join(', ')}`,
  );
}
