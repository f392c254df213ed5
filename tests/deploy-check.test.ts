import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/*
 * scripts/check-deploy.js is what CI runs on docker-compose.yml and deploy/k8s. These tests make
 * sure it passes the checked-in files and fails, naming the problem, on the mistakes it exists for.
 * The image check (an npm install) runs as its own CI step, not here.
 */
const repoRoot = resolve(__dirname, '..');
const script = join(repoRoot, 'scripts/check-deploy.js');

function run(...args: string[]): { status: number | null; stdout: string } {
  const result = spawnSync(process.execPath, [script, ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout + result.stderr };
}

describe('check:deploy', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'outpost-deploy-check-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('passes the checked-in compose file and Kubernetes manifests', () => {
    const result = run('compose', 'k8s');
    expect(result.stdout).toContain('check:deploy compose: ok');
    expect(result.stdout).toMatch(/check:deploy k8s: ok \(3 kustomizations, \d+ objects\)/);
    expect(result.status).toBe(0);
  });

  it('rejects a compose file that docker-compose 1.x or the rules would not accept', () => {
    const compose = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')
      .replace('services:\n', 'name: outpost\nservices:\n')
      .replace("'${ADMIN_BIND:-127.0.0.1}:8081:8081'", "'8081:8081'")
      .replace('    hostname: rabbitmq\n', '    hostnam: rabbitmq\n');
    writeFileSync(join(work, 'docker-compose.yml'), compose);
    writeFileSync(join(work, '.env.example'), '');
    const result = run('compose', '--compose', join(work, 'docker-compose.yml'));
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('top-level `name:` is rejected by docker-compose 1.x');
    expect(result.stdout).toContain('the admin port must be bound to 127.0.0.1 by default');
    expect(result.stdout).toContain('rabbitmq: needs a fixed `hostname`');
    // The schema itself refuses the misspelt key.
    expect(result.stdout).toMatch(
      /schema: \/services\/rabbitmq must NOT have additional properties.*hostnam/,
    );
  });

  it('rejects manifests that break the Kubernetes schema or the hardening rules', () => {
    cpSync(join(repoRoot, 'deploy/k8s'), join(work, 'k8s'), { recursive: true });
    const applier = join(work, 'k8s/base/applier.yaml');
    writeFileSync(
      applier,
      readFileSync(applier, 'utf8')
        .replace('  replicas: 1', "  replicas: 'one'")
        .replace('readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false')
        .replace('type: RuntimeDefault', 'type: Unconfined'),
    );
    const result = run('k8s', '--k8s', join(work, 'k8s'));
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('base: Deployment/applier: data/spec/replicas must be integer');
    expect(result.stdout).toContain(
      'base: Deployment/applier container applier: root filesystem is writable',
    );
    expect(result.stdout).toContain('base: Deployment/applier: seccompProfile is not RuntimeDefault');
    expect(result.stdout).toContain(
      'overlays/prod: Deployment/applier container applier: root filesystem is writable',
    );
  });
});
