import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@outpost/test-support';
import { createWorld, type World } from './support/world';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '..');

/*
 * The agent as a laptop gets it: `npm run pack:agent` makes one tarball with the workspace
 * libraries bundled; it is installed with `npm install -g` into an empty prefix, far from this
 * repository, and the installed `sync-agent` does a real sync with the test stack. better-sqlite3
 * is compiled during the install, which is why this test has minutes, not seconds.
 */
describe('the installable agent package', () => {
  let world: World;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'outpost-agent-install-'));
    world = await createWorld();
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('installs into an empty prefix and syncs a change to the server', async () => {
    const packed = await run(process.execPath, [
      path.join(REPO_ROOT, 'scripts/pack-agent.js'),
      '--out',
      work,
    ]);
    expect(packed.stdout).toContain('bundles @outpost/contracts, @outpost/dx-format, @outpost/schema');
    const [tarball] = readdirSync(work).filter((f) => f.endsWith('.tgz'));
    expect(tarball).toMatch(/^outpost-sync-agent-\d+\.\d+\.\d+\.tgz$/);

    const prefix = path.join(work, 'prefix');
    // An environment without this repository's node_modules in sight: PATH, HOME (npm's cache) and
    // what reaches the registry from here (a CA bundle, a proxy, npm's own settings).
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.homedir(), ...registryEnv() };
    await run(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        path.join(work, tarball),
      ],
      {
        cwd: work,
        env,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const bin = path.join(prefix, 'bin', 'sync-agent');
    const agent = (args: string[]) => run(bin, args, { cwd: work, env, maxBuffer: 16 * 1024 * 1024 });

    const version = await agent(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);

    const secret = await world.register('pkg-laptop', 'alice');
    const dir = path.join(work, 'laptop');
    await agent([
      'init',
      '--dir',
      dir,
      '--server',
      world.stack.gatewayUrl,
      '--client',
      'pkg-laptop',
      '--secret',
      secret,
      '--json',
    ]);
    const id = randomUUID();
    await agent([
      'exec',
      '--dir',
      dir,
      `INSERT INTO account (id, name, owner_login) VALUES ('${id}', 'Installed', 'alice')`,
    ]);
    const synced = JSON.parse((await agent(['sync', '--dir', dir, '--json'])).stdout) as {
      uploaded: { files: number };
    };
    expect(synced.uploaded.files).toBe(1);
    await waitFor(
      async () =>
        (await world.db.query('SELECT name FROM account WHERE id = $1', [id])).rows[0]?.name === 'Installed',
      { timeoutMs: 30_000, description: 'the change of the installed agent in Postgres' },
    );
  }, 900_000);
});

/** The variables that let npm reach its registry through this network: CA bundles, proxies, the registry. */
function registryEnv(): Record<string, string> {
  const wanted =
    /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|https?_proxy|no_proxy|npm_config_(registry|cafile|ca|strict_ssl|proxy|https_proxy|noproxy))$/i;
  return Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => wanted.test(e[0]) && e[1] !== undefined),
  );
}
