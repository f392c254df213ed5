import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestSupportErrorCode } from './errors';
import { spawnService } from './service-process';

/** A stand-in router that prints a variable from its environment and exits. */
function repoWithRouter(): string {
  const root = mkdtempSync(join(tmpdir(), 'outpost-service-process-spec-'));
  const dist = join(root, 'services', 'router', 'dist');
  mkdirSync(dist, { recursive: true });
  writeFileSync(
    join(dist, 'main.js'),
    `console.log('SEEN=' + (process.env.SEEN || '-') + ' INHERITED=' + (process.env.SPEC_INHERITED || '-'));
     process.exit(Number(process.env.EXIT_CODE || 0));\n`,
  );
  return root;
}

describe('spawnService', () => {
  let repoRoot: string;
  beforeEach(() => {
    repoRoot = repoWithRouter();
    process.env.SPEC_INHERITED = 'yes';
  });
  afterEach(() => {
    delete process.env.SPEC_INHERITED;
    rmSync(repoRoot, { recursive: true, force: true });
  });

  it('runs a service with only the given environment, logging its output and exit', async () => {
    const logFile = join(repoRoot, 'router.log');
    const run = spawnService({
      repoRoot,
      name: 'router',
      env: { SEEN: 'given', EXIT_CODE: '1' },
      logFile,
      inheritEnv: false,
    });
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(run.isRunning()).toBe(false);
    expect(run.output()).toContain('SEEN=given INHERITED=-');
    expect(run.output()).toContain('router exited (code 1, signal null)');
  });

  it("passes this process's environment by default, and each run's output is its own", async () => {
    const logFile = join(repoRoot, 'router.log');
    await spawnService({ repoRoot, name: 'router', env: { SEEN: 'first' }, logFile }).exited;
    const second = spawnService({ repoRoot, name: 'router', env: { SEEN: 'second' }, logFile });
    await second.exited;
    expect(second.output()).toContain('SEEN=second INHERITED=yes');
    expect(second.output()).not.toContain('first');
  });

  it('refuses a service that is not built', () => {
    expect(() =>
      spawnService({ repoRoot, name: 'applier', env: {}, logFile: join(repoRoot, 'applier.log') }),
    ).toThrow(expect.objectContaining({ code: TestSupportErrorCode.ServiceNotBuilt }));
  });
});
