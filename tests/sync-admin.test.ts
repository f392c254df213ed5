import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClientLagView } from '@outpost/contracts';
import { waitFor } from '@outpost/test-support';
import { admin, adminJson, agent } from './support/cli';
import { exec, sync } from './support/laptops';
import { createWorld, type World } from './support/world';

/** sync-admin as an operator's script sees it: exit codes by class, JSON everywhere, lag, reactivate. */
describe('sync-admin against a running stack', () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld();
  }, 120_000);
  afterAll(() => world?.close());

  it('prints its version', async () => {
    const result = await admin(['--version'], world.stack);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(result.code).toBe(0);
  });

  it('shows each client lag both ways, and the last sync', async () => {
    const dir = await world.laptop('lag-1', 'alice');
    const before = await adminJson<ClientLagView[]>(['lag', '--client', 'lag-1'], world.stack);
    expect(before).toEqual([
      expect.objectContaining({
        name: 'lag-1',
        status: 'active',
        inbox: { pendingFiles: 0, pendingBytes: 0, quarantinedFiles: 0, oldestPendingAgeSeconds: null },
      }),
    ]);
    await exec(
      dir,
      `INSERT INTO account (id, name, owner_login) VALUES ('${randomUUID()}', 'Lagging', 'alice')`,
    );
    await sync(dir);
    await world.applied('lag-1', 1);
    // Whatever the router made for the laptop since is downloaded and acknowledged by the next sync.
    const after = await waitFor(
      async () => {
        await sync(dir);
        const [row] = await adminJson<ClientLagView[]>(['lag', '--client', 'lag-1'], world.stack);
        return row.lastSyncAt !== null && row.outbound.unackedFiles === 0 ? row : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: 'lag-1 synced with nothing left to download' },
    );
    expect(after.inbox.pendingFiles).toBe(0);
    expect(after.route.pendingLogEntries).toBeGreaterThanOrEqual(0);

    // A file the server has not applied shows as pending up, with its age.
    await world.stack.stopService('applier');
    try {
      await exec(
        dir,
        `INSERT INTO account (id, name, owner_login) VALUES ('${randomUUID()}', 'Stuck', 'alice')`,
      );
      await sync(dir);
      const [stuck] = await adminJson<ClientLagView[]>(['lag', '--client', 'lag-1'], world.stack);
      expect(stuck.inbox.pendingFiles).toBe(1);
      expect(stuck.inbox.pendingBytes).toBeGreaterThan(0);
      expect(stuck.inbox.oldestPendingAgeSeconds).not.toBeNull();
      const table = await admin(['lag'], world.stack);
      expect(table.stdout).toMatch(/lag-1\s+active\s+\S+\s+1 \(\d+ B\)/);
    } finally {
      await world.stack.startService('applier');
    }
    await world.applied('lag-1', 2);
  });

  it('deactivates and reactivates a client, which then syncs with the secret it holds', async () => {
    const dir = await world.laptop('react-1', 'bob', { extract: false });
    await adminJson(['clients', 'deactivate', 'react-1'], world.stack);
    const refused = await agent(['sync', '--dir', dir, '--json']);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain('CLIENT_DEACTIVATED');
    const view = await adminJson<{ status: string }>(['clients', 'reactivate', 'react-1'], world.stack);
    expect(view.status).toBe('active');
    await expect(sync(dir)).resolves.toBeDefined();
  });

  it('reports a refusal as JSON with exit code 3', async () => {
    const result = await admin(['clients', 'list', '--json', '--token', 'not-the-admin-token'], world.stack);
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toEqual({
      error: expect.objectContaining({ class: 'refused', code: 'ADMIN_TOKEN_INVALID' }),
    });
    const unknown = await admin(['clients', 'reactivate', 'nobody-here', '--json'], world.stack);
    expect(unknown.code).toBe(3);
    expect(JSON.parse(unknown.stdout).error.code).toBe('CLIENT_UNKNOWN');
  });
});

describe('sync-admin failures without a stack', () => {
  const env = { adminToken: 'token-of-sixteen-chars' };

  it('reports a usage error as JSON with exit code 2', async () => {
    const result = await admin(['clients', 'frobnicate', '--json'], {
      adminUrl: 'http://127.0.0.1:9',
      ...env,
    });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error).toMatchObject({ class: 'usage', code: 'USAGE' });
  });

  it('reports an unreachable server with exit code 4, as text and as JSON', async () => {
    const text = await admin(['clients', 'list'], { adminUrl: 'http://127.0.0.1:9', ...env });
    expect(text.code).toBe(4);
    expect(text.stderr).toMatch(/^error: cannot reach the admin API at http:\/\/127\.0\.0\.1:9/);
    const json = await admin(['clients', 'list', '--json'], { adminUrl: 'http://127.0.0.1:9', ...env });
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout).error).toMatchObject({ class: 'unreachable', code: 'UNREACHABLE' });
  });

  it('says so when a web server answers instead of the admin API, and when nothing answers in time', async () => {
    const web = createServer((req, res) => {
      if (req.url?.startsWith('/admin/clients')) {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>It works!</body></html>');
      }
    });
    // Accepts the request and never answers.
    const silent = createServer(() => undefined);
    await Promise.all(
      [web, silent].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))),
    );
    const url = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    try {
      const html = await admin(['clients', 'list'], { adminUrl: url(web), ...env });
      expect(html.code).toBe(4);
      expect(html.stderr).toContain(
        `the server at ${url(web)} answered with HTML, not the Outpost admin API: check --server and the port`,
      );
      const slow = await admin(['clients', 'list', '--timeout', '0.5', '--json'], {
        adminUrl: url(silent),
        ...env,
      });
      expect(slow.code).toBe(4);
      expect(JSON.parse(slow.stdout).error).toMatchObject({ class: 'unreachable', code: 'TIMEOUT' });
    } finally {
      silent.closeAllConnections();
      await Promise.all([web, silent].map((s) => new Promise((resolve) => s.close(resolve))));
    }
  });
});
