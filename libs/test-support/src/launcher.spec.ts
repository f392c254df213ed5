import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';
import { TestSupportErrorCode } from './errors';
import { launchStack, type LaunchConfig, type Stack } from './launcher';
import { SERVER_SERVICES, type ServerService } from './service-process';
import { freePorts } from './ports';
import { waitFor } from './wait-for';

/*
 * The launcher is exercised against stand-in services: small node scripts at
 * services/<name>/dist/main.js in a temp repository that read the same variables as the real
 * services and answer /healthz. FAKE_MODES=<service>=<mode>,... makes one misbehave.
 */
const FAKE_SERVICE = `
const http = require('node:http');
module.exports = (name) => {
  const mode = (process.env.FAKE_MODES || '').split(',').map((m) => m.split('=')).find(([n]) => n === name)?.[1] || 'ok';
  const portVar = name === 'inbox-store' ? 'INBOX_STORE_PORT' : name === 'sync-gateway' ? 'GATEWAY_PORT' : 'HEALTH_PORT';
  const seen = ['DATABASE_URL', 'AMQP_URL', 'S3_ENDPOINT', 'S3_BUCKET_PREFIX', 'QUEUE_PREFIX', 'INBOX_STORE_URL', 'ADMIN_TOKEN', 'HEALTH_PORT'];
  console.log(name + ' pid ' + process.pid);
  console.log(name + ' env ' + seen.map((v) => v + '=' + (process.env[v] || '')).join(' '));
  if (mode === 'crash') {
    console.error(name + ': cannot connect to the database');
    process.exit(3);
  }
  if (mode === 'ignore-sigterm') process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
  const serve = (port) =>
    http
      .createServer((req, res) => {
        res.statusCode = req.url === '/healthz' ? (mode === 'unhealthy' ? 503 : 200) : 404;
        res.end();
      })
      .listen(Number(port), '127.0.0.1');
  serve(process.env[portVar]);
  if (name === 'sync-gateway') serve(process.env.ADMIN_PORT);
  console.log(name + ' ready on ' + process.env[portVar]);
};
`;

function fakeRepo(): string {
  const root = mkdtempSync(join(tmpdir(), 'outpost-launcher-spec-'));
  writeFileSync(join(root, 'fake-service.js'), FAKE_SERVICE);
  for (const name of SERVER_SERVICES) {
    const dist = join(root, 'services', name, 'dist');
    mkdirSync(dist, { recursive: true });
    writeFileSync(join(dist, 'main.js'), `require('../../../fake-service.js')(${JSON.stringify(name)});\n`);
  }
  return root;
}

async function config(repoRoot: string, overrides: Partial<LaunchConfig> = {}): Promise<LaunchConfig> {
  const [gateway, admin, inboxStore, registryHealth, applierHealth, routerHealth] = await freePorts(6);
  return {
    repoRoot,
    databaseUrl: 'postgres://postgres@127.0.0.1:5432/launcher_spec',
    amqpUrl: 'amqp://guest:guest@127.0.0.1:5672',
    s3: { endpoint: 'http://127.0.0.1:9', accessKey: 'a', secretKey: 'b', region: 'us-east-1' },
    queuePrefix: 'spec-q',
    bucketPrefix: 'spec-b',
    adminToken: 'token-1',
    sessionKey: 'session-key-1',
    internalToken: 'internal-token-1',
    ports: { gateway, admin, inboxStore, registryHealth, applierHealth, routerHealth },
    logDir: join(repoRoot, 'logs'),
    readyTimeoutMs: 15_000,
    ...overrides,
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of the service's latest run, as the stand-in printed it. */
function pidOf(logs: string, name: string): number {
  const pids = [...logs.matchAll(new RegExp(`^${name} pid (\\d+)$`, 'gm'))].map((m) => Number(m[1]));
  if (pids.length === 0) throw new Error(`${name} printed no pid`);
  return pids[pids.length - 1];
}

// Each case starts real node processes, one after the other: seconds on a busy machine.
jest.setTimeout(30_000);

describe('launchStack', () => {
  let repoRoot: string;
  let stack: Stack | undefined;

  beforeEach(() => {
    repoRoot = fakeRepo();
  });
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
    rmSync(repoRoot, { recursive: true, force: true });
  });

  it('starts every service healthy with the shared environment and its own health port', async () => {
    const cfg = await config(repoRoot);
    stack = await launchStack(cfg);

    expect((await fetch(`${stack.gatewayUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${stack.adminUrl}/healthz`)).status).toBe(200);
    expect(stack.env).toMatchObject({
      QUEUE_PREFIX: 'spec-q',
      S3_BUCKET_PREFIX: 'spec-b',
      ADMIN_TOKEN: 'token-1',
      INBOX_STORE_URL: `http://127.0.0.1:${cfg.ports.inboxStore}`,
    });
    expect(stack.logs('client-registry')).toContain(`HEALTH_PORT=${cfg.ports.registryHealth}`);
    expect(stack.logs('router')).toContain(`HEALTH_PORT=${cfg.ports.routerHealth}`);
    expect(stack.logs('inbox-store')).toContain(`inbox-store ready on ${cfg.ports.inboxStore}`);
    expect(stack.logs('sync-gateway')).toContain(
      'DATABASE_URL=postgres://postgres@127.0.0.1:5432/launcher_spec',
    );

    const running = stack;
    const pids = SERVER_SERVICES.map((name) => pidOf(running.logs(name), name));
    expect(pids.filter(isAlive)).toHaveLength(5);
    await stack.stop();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(SERVER_SERVICES.some((name) => stack?.isRunning(name))).toBe(false);
  });

  it('kills one service outright and restarts it on the same port', async () => {
    const cfg = await config(repoRoot, { services: ['inbox-store', 'applier'] });
    stack = await launchStack(cfg);
    const pid = pidOf(stack.logs('applier'), 'applier');

    await stack.kill('applier');
    expect(stack.isRunning('applier')).toBe(false);
    expect(isAlive(pid)).toBe(false);
    expect(stack.logs('applier')).toContain('signal SIGKILL');
    expect(stack.isRunning('inbox-store')).toBe(true);

    await stack.restart('applier');
    expect(stack.isRunning('applier')).toBe(true);
    expect((await fetch(`http://127.0.0.1:${cfg.ports.applierHealth}/healthz`)).status).toBe(200);
    expect(stack.logs('applier').match(/applier ready on/g)).toHaveLength(2);
  });

  it('stops one service gracefully and starts it again, leaving the others alone', async () => {
    const cfg = await config(repoRoot, { services: ['client-registry', 'router'] });
    stack = await launchStack(cfg);
    const registry = pidOf(stack.logs('client-registry'), 'client-registry');

    await stack.stopService('router');
    expect(stack.isRunning('router')).toBe(false);
    expect(stack.logs('router')).toContain('router exited (code null, signal SIGTERM)');
    await expect(fetch(`http://127.0.0.1:${cfg.ports.routerHealth}/healthz`)).rejects.toThrow();

    await stack.startService('router');
    await stack.startService('router');
    expect((await fetch(`http://127.0.0.1:${cfg.ports.routerHealth}/healthz`)).status).toBe(200);
    expect(stack.logs('router').match(/router ready on/g)).toHaveLength(2);
    expect(pidOf(stack.logs('client-registry'), 'client-registry')).toBe(registry);
    expect(isAlive(registry)).toBe(true);
  });

  it('starts a service later with extra environment for that run, kept by a restart', async () => {
    const cfg = await config(repoRoot, { services: [] });
    stack = await launchStack(cfg);
    expect(stack.isRunning('applier')).toBe(false);

    const applier = await stack.startService('applier', { env: { QUEUE_PREFIX: 'own-q' } });
    expect(applier.isRunning()).toBe(true);
    expect(applier.output()).toContain('QUEUE_PREFIX=own-q');
    expect(await stack.startService('applier')).toBe(applier);

    await stack.restart('applier');
    expect(stack.logs('applier').match(/QUEUE_PREFIX=own-q/g)).toHaveLength(2);
    await stack.stopService('applier');
    const plain = await stack.startService('applier');
    expect(plain.output()).toContain('QUEUE_PREFIX=spec-q');
    expect(plain.output()).not.toContain('own-q');
  });

  it('hands back a run it does not wait for, with how it ended', async () => {
    stack = await launchStack(await config(repoRoot, { services: [], env: { FAKE_MODES: 'applier=crash' } }));
    const doomed = await stack.startService('applier', { waitHealthy: false });
    expect(await doomed.exited).toEqual({ code: 3, signal: null });
    expect(doomed.output()).toContain('applier: cannot connect to the database');
  });

  it('runs a replica beside the stack on its own ports and stops it with the stack', async () => {
    stack = await launchStack(await config(repoRoot, { services: ['sync-gateway'] }));
    const replica = await stack.startReplica('sync-gateway', { env: { QUEUE_PREFIX: 'replica-q' } });
    expect(replica.url).not.toBe(stack.gatewayUrl);
    expect((await fetch(`${replica.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${replica.adminUrl}/healthz`)).status).toBe(200);
    expect(replica.output()).toContain('QUEUE_PREFIX=replica-q');
    expect(replica.logFile).toBe(join(stack.logDir, 'sync-gateway-replica-1.log'));
    const pid = pidOf(replica.output(), 'sync-gateway');

    await stack.stop();
    expect(isAlive(pid)).toBe(false);
    expect(replica.isRunning()).toBe(false);
  });

  it('refuses to manage a service that is not part of the stack', async () => {
    stack = await launchStack(await config(repoRoot, { services: ['router'] }));
    await expect(stack.kill('applier')).rejects.toMatchObject({ code: TestSupportErrorCode.InvalidOption });
    await expect(stack.startService('mailer' as ServerService)).rejects.toMatchObject({
      code: TestSupportErrorCode.InvalidOption,
    });
  });

  it('reports a service that exits at start with its log path and last lines, and stops the others', async () => {
    const cfg = await config(repoRoot, { env: { FAKE_MODES: 'applier=crash' } });
    const error = await launchStack(cfg).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: TestSupportErrorCode.ServiceStartFailed });
    const message = (error as Error).message;
    expect(message).toContain('applier exited before it became healthy (code 3');
    expect(message).toContain(join(cfg.logDir, 'applier.log'));
    expect(message).toContain('applier: cannot connect to the database');
    const startedBefore = (['client-registry', 'inbox-store'] as const).map((name) =>
      pidOf(readFileSync(join(cfg.logDir, `${name}.log`), 'utf8'), name),
    );
    expect(startedBefore.filter(isAlive)).toEqual([]);
  });

  it('gives up on a service that never answers 200, naming its last answer', async () => {
    const cfg = await config(repoRoot, {
      services: ['router'],
      env: { FAKE_MODES: 'router=unhealthy' },
      // Long enough for the stand-in to be up and answer 503 on a busy machine.
      readyTimeoutMs: 3_000,
    });
    await expect(launchStack(cfg)).rejects.toThrow(
      /router did not answer GET .*\/healthz with 200 within 3000 ms \(last answer 503\)/,
    );
  });

  it('SIGKILLs a service that ignores SIGTERM once the stop deadline passes', async () => {
    const cfg = await config(repoRoot, {
      services: ['router'],
      env: { FAKE_MODES: 'router=ignore-sigterm' },
      stopTimeoutMs: 300,
    });
    stack = await launchStack(cfg);
    const pid = pidOf(stack.logs('router'), 'router');
    await stack.stop();
    expect(isAlive(pid)).toBe(false);
    expect(stack.logs('router')).toContain('ignoring SIGTERM');
    expect(stack.logs('router')).toContain('signal SIGKILL');
  });

  it('refuses to start when a service is not built', async () => {
    rmSync(join(repoRoot, 'services', 'router', 'dist'), { recursive: true });
    await expect(launchStack(await config(repoRoot))).rejects.toMatchObject({
      code: TestSupportErrorCode.ServiceNotBuilt,
      message: expect.stringContaining('run `npm run build` first'),
    });
  });
});

describe('child reaper', () => {
  it('kills registered children when their parent dies without cleaning up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-reaper-spec-'));
    try {
      const source = ts.transpileModule(readFileSync(join(__dirname, 'child-reaper.ts'), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      writeFileSync(join(dir, 'child-reaper.js'), source);
      writeFileSync(
        join(dir, 'parent.js'),
        `const { spawn } = require('node:child_process');
         const { registerChild } = require('./child-reaper.js');
         const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
         registerChild(child);
         console.log(child.pid);
         setInterval(() => {}, 1000);`,
      );
      const parent = spawn(process.execPath, [join(dir, 'parent.js')], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const childPid = await new Promise<number>((resolve) =>
        parent.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))),
      );
      expect(isAlive(childPid)).toBe(true);

      parent.kill('SIGKILL');
      await waitFor(() => !isAlive(childPid), {
        timeoutMs: 5_000,
        description: `child ${childPid} to be reaped`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
