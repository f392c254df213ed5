import type { FetchFn } from './admin-api';
import { buildProgram, errorJson, errorLine, failureOf } from './program';

interface Call {
  url: string;
  method: string;
  auth: string | null;
  body: unknown;
}

function harness(respond: (call: Call) => { status: number; body?: unknown }) {
  const calls: Call[] = [];
  let output = '';
  const fakeFetch: FetchFn = async (input, init) => {
    const headers = new Headers(init?.headers);
    const call = {
      url: String(input),
      method: init?.method ?? 'GET',
      auth: headers.get('authorization'),
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    };
    calls.push(call);
    const { status, body } = respond(call);
    return new Response(body === undefined ? null : JSON.stringify(body), { status });
  };
  const run = (...args: string[]) =>
    buildProgram({
      out: (t) => (output += t),
      env: { SYNC_ADMIN_URL: 'http://gw:8081/', SYNC_ADMIN_TOKEN: 'tok' },
      fetch: fakeFetch,
    }).parseAsync(['node', 'sync-admin', ...args]);
  return { calls, run, output: () => output };
}

const client = {
  name: 'lap-1',
  userLogin: 'jdoe',
  status: 'active',
  createdAt: '2026-01-01T00:00:00.000Z',
  lastSyncAt: null,
  lastSyncResult: null,
};

describe('sync-admin', () => {
  it('adds a client and prints its secret once, saying so', async () => {
    const h = harness(() => ({ status: 201, body: { client, secret: 's3cr3t' } }));
    await h.run('clients', 'add', 'lap-1', '--user', 'jdoe');
    expect(h.calls).toEqual([
      {
        url: 'http://gw:8081/admin/clients',
        method: 'POST',
        auth: 'Bearer tok',
        body: { name: 'lap-1', userLogin: 'jdoe' },
      },
    ]);
    expect(h.output()).toContain('shown only this once');
    expect(h.output().match(/s3cr3t/g)).toHaveLength(1);
  });

  it('lists clients as a table or as JSON', async () => {
    const h = harness(() => ({ status: 200, body: [client] }));
    await h.run('clients', 'list');
    expect(h.output()).toMatch(/^NAME\s+USER\s+STATUS/);
    expect(h.output()).toMatch(/lap-1\s+jdoe\s+active/);
    const j = harness(() => ({ status: 200, body: [client] }));
    await j.run('clients', 'list', '--json');
    expect(JSON.parse(j.output())).toEqual([client]);
  });

  it('shows an inbox with waiting and quarantined files, and retries one', async () => {
    const file = (fileSeq: number, status: string, waiting: boolean, reason: string | null) => ({
      client: 'lap-1',
      fileSeq,
      status,
      waiting,
      size: 10,
      sha256: 'a',
      txnCount: 1,
      reason,
      receivedAt: '2026-01-01T00:00:00Z',
      appliedAt: null,
    });
    const h = harness((c) =>
      c.method === 'GET'
        ? {
            status: 200,
            body: [
              file(1, 'applied', false, null),
              file(2, 'quarantined', false, 'unknown table x'),
              file(3, 'received', true, null),
            ],
          }
        : { status: 200, body: file(2, 'received', false, null) },
    );
    await h.run('inbox', 'lap-1');
    expect(h.output()).toContain('lap-1: 0 received, 1 applied, 1 waiting, 1 quarantined');
    expect(h.output()).toContain('unknown table x');
    await h.run('inbox', 'retry', 'lap-1', '2');
    expect(h.calls[1]).toMatchObject({
      method: 'POST',
      url: 'http://gw:8081/admin/clients/lap-1/inbox/2/retry',
    });
  });

  it('filters conflicts by client', async () => {
    const h = harness(() => ({ status: 200, body: [] }));
    await h.run('--server', 'http://other:9', 'conflicts', 'list', '--client', 'lap-1');
    expect(h.calls[0].url).toBe('http://other:9/admin/conflicts?client=lap-1');
    expect(h.output()).toBe('No conflicts.\n');
  });

  it('turns an API error into one line with code and correlation id', async () => {
    const h = harness(() => ({
      status: 409,
      body: {
        error: { code: 'CLIENT_EXISTS', message: 'Client "lap-1" already exists', correlationId: 'c-1' },
      },
    }));
    const err = await h.run('clients', 'add', 'lap-1', '--user', 'u').catch((e: unknown) => e);
    expect(errorLine(err)).toBe('error: Client "lap-1" already exists (CLIENT_EXISTS, correlation id c-1)\n');
  });

  it('says clearly when the server cannot be reached', async () => {
    const program = buildProgram({
      out: () => undefined,
      env: { SYNC_ADMIN_URL: 'http://127.0.0.1:9', SYNC_ADMIN_TOKEN: 't' },
      fetch: async () => {
        throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      },
    });
    const err = await program.parseAsync(['node', 'sync-admin', 'clients', 'list']).catch((e: unknown) => e);
    expect(errorLine(err)).toMatch(
      /^error: cannot reach the admin API at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\); check --server/,
    );
  });

  it('asks for a server when none is given', async () => {
    const program = buildProgram({ out: () => undefined, env: {} });
    const err = await program.parseAsync(['node', 'sync-admin', 'clients', 'list']).catch((e: unknown) => e);
    expect(errorLine(err)).toMatch(/^error: no server: pass --server URL or set SYNC_ADMIN_URL/);
  });

  it('reactivates a client and shows lag per client', async () => {
    const lag = {
      name: 'lap-1',
      status: 'active',
      lastSyncAt: '2026-01-01T00:00:00.000Z',
      inbox: { pendingFiles: 2, pendingBytes: 300, quarantinedFiles: 1, oldestPendingAgeSeconds: 4000 },
      outbound: { unackedFiles: 1, unackedBytes: 50, oldestUnackedAgeSeconds: 30 },
      route: { pendingLogEntries: 7, oldestPendingAgeSeconds: 5, failures: 0, lastError: null },
    };
    const h = harness((c) =>
      c.url.includes('/lag') ? { status: 200, body: [lag] } : { status: 200, body: client },
    );
    await h.run('clients', 'reactivate', 'lap-1');
    expect(h.calls[0]).toMatchObject({
      method: 'POST',
      url: 'http://gw:8081/admin/clients/lap-1/reactivate',
    });
    expect(h.output()).toBe('Client lap-1 is active again.\n');
    await h.run('lag', '--client', 'lap-1');
    expect(h.calls[1].url).toBe('http://gw:8081/admin/lag?client=lap-1');
    expect(h.output()).toContain('router: 7 server log entries not routed yet, oldest 5s old');
    expect(h.output()).toMatch(
      /lap-1\s+active\s+2026-01-01T00:00:00.000Z\s+2 \(300 B\)\s+1\s+66m\s+1 \(50 B\)\s+30s/,
    );
  });

  it('prints JSON for every command when --json is given anywhere, errors included', async () => {
    const h = harness(() => ({ status: 200, body: client }));
    await h.run('--json', 'clients', 'deactivate', 'lap-1');
    expect(JSON.parse(h.output())).toEqual(client);
    const refused = harness(() => ({
      status: 401,
      body: { error: { code: 'ADMIN_TOKEN_INVALID', message: 'bad token', correlationId: 'c-2' } },
    }));
    const err = await refused.run('clients', 'list', '--json').catch((e: unknown) => e);
    expect(JSON.parse(errorJson(err))).toEqual({
      error: { class: 'refused', code: 'ADMIN_TOKEN_INVALID', message: 'bad token', correlationId: 'c-2' },
    });
  });

  it('classes failures: refused (4xx), unreachable (503, no answer), server (5xx)', async () => {
    const status = async (code: number) => {
      const h = harness(() => ({ status: code, body: { error: { code: 'X', message: 'm' } } }));
      return failureOf(await h.run('clients', 'list').catch((e: unknown) => e)).failureClass;
    };
    expect(await status(404)).toBe('refused');
    expect(await status(503)).toBe('unreachable');
    expect(await status(500)).toBe('server');
  });

  it('says the server answered with HTML, not the admin API', async () => {
    const program = buildProgram({
      out: () => undefined,
      env: { SYNC_ADMIN_URL: 'http://web:80', SYNC_ADMIN_TOKEN: 't' },
      fetch: async () =>
        new Response('<!doctype html><html><body>Welcome</body></html>', {
          status: 200,
          headers: { 'content-type': 'text/html; charset=utf-8' },
        }),
    });
    const err = await program.parseAsync(['node', 'sync-admin', 'clients', 'list']).catch((e: unknown) => e);
    expect(errorLine(err)).toBe(
      "error: the server at http://web:80 answered with HTML, not the Outpost admin API: check --server and the port (the gateway's ADMIN_PORT, 8081 by default) (NOT_ADMIN_API)\n",
    );
    expect(failureOf(err).failureClass).toBe('unreachable');
  });

  it('gives up after --timeout seconds', async () => {
    const program = buildProgram({
      out: () => undefined,
      env: { SYNC_ADMIN_URL: 'http://slow:8081', SYNC_ADMIN_TOKEN: 't' },
      fetch: (_input, init) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    });
    const err = await program
      .parseAsync(['node', 'sync-admin', '--timeout', '0.2', 'clients', 'list'])
      .catch((e: unknown) => e);
    expect(errorLine(err)).toMatch(/did not answer within 0\.2 s; check the gateway, or raise --timeout/);
    expect(failureOf(err).failureClass).toBe('unreachable');
  });
});
