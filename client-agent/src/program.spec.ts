import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { agentPaths, writeAgentConfig } from './config/agent-config';
import { runCli } from './program';
import { closedPort, FakeGateway } from './testing/fake-gateway';
import { bufferIo, makeClientFolder } from './testing/fixtures';

async function cli(args: string[], stdin?: string) {
  const io = bufferIo(stdin);
  const code = await runCli(args, io);
  return { code, out: io.stdoutText(), err: io.stderrText() };
}

describe('sync-agent commands', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-cli-'));
    dirs.push(dir);
    return path.join(dir, 'client');
  };
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('init creates the folder and a 0600 credentials file, and explains an unreachable server', async () => {
    const dir = tempDir();
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { code, err } = await cli([
      'init',
      '--dir',
      dir,
      '--server',
      url,
      '--client',
      'laptop-1',
      '--secret',
      's3cret',
    ]);
    expect(code).toBe(3);
    expect(err).toMatch(
      `local store created in ${dir}, but cannot reach the sync server at ${url}: ECONNREFUSED`,
    );
    expect(err).toMatch(`run "sync-agent sync --dir ${dir}" when online`);
    const paths = agentPaths(dir);
    for (const p of [paths.db, paths.outbox, paths.inbox, paths.config]) expect(fs.existsSync(p)).toBe(true);
    expect(fs.statSync(paths.credentials).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(paths.config, 'utf8'))).toEqual({
      server: url,
      client: 'laptop-1',
      schema: 'sales',
    });
    expect(
      (await cli(['exec', '--dir', dir, "INSERT INTO account(name) VALUES ('works offline')", '--json'])).out,
    ).toBe('{"changes":1}\n');
  });

  it('init downloads the initial extract when the server answers', async () => {
    const gateway = new FakeGateway();
    const url = await gateway.start();
    try {
      const dir = tempDir();
      const { code, out } = await cli([
        'init',
        '--dir',
        dir,
        '--server',
        url,
        '--client',
        'laptop-1',
        '--secret',
        'secret-1',
        '--json',
      ]);
      expect(code).toBe(0);
      expect(JSON.parse(out)).toMatchObject({
        dir,
        client: 'laptop-1',
        sync: { uploaded: { files: 0 }, downloaded: { files: 0 } },
      });
      expect(gateway.closedWith).toEqual({ result: { ok: true, uploadedFiles: 0, downloadedFiles: 0 } });
    } finally {
      await gateway.stop();
    }
  });

  it('lists every bad init option at once', async () => {
    const { code, err } = await cli([
      'init',
      '--dir',
      tempDir(),
      '--server',
      'ftp://x',
      '--client',
      'bad name!',
      '--secret',
      's',
    ]);
    expect(code).toBe(1);
    expect(err).toMatch(/server "ftp:\/\/x" is not an http:\/\/ or https:\/\/ URL/);
    expect(err).toMatch(/client name "bad name!" must match/);
  });

  it('reads the folder from SYNC_AGENT_DIR and prints status JSON', async () => {
    const folder = makeClientFolder();
    const saved = process.env.SYNC_AGENT_DIR;
    process.env.SYNC_AGENT_DIR = folder.cfg.dir;
    try {
      await cli(['exec', "INSERT INTO account(name) VALUES ('pending')"]);
      const { code, out } = await cli(['status', '--json']);
      expect(code).toBe(0);
      expect(JSON.parse(out)).toEqual({
        client: 'laptop-1',
        server: 'http://127.0.0.1:9',
        userLogin: null,
        schema: { name: 'sales', version: 3 },
        pendingTransactions: 1,
        outboxFiles: 0,
        awaitingConfirmation: 0,
        download: { epoch: 0, fileSeq: 0 },
        lastSync: null,
        conflicts: [],
        serverInbox: null,
        waitingFor: ['1 local changes wait for the next "sync-agent sync" to be sent'],
        rejected: [],
        refusals: [],
      });
      const query = await cli(['query', 'SELECT name FROM account']);
      expect(query.out).toBe('name\n-------\npending\n(1 row)\n');
    } finally {
      if (saved === undefined) delete process.env.SYNC_AGENT_DIR;
      else process.env.SYNC_AGENT_DIR = saved;
      folder.cleanup();
    }
  });

  it('refuses a query in exec and a write in query, and reports SQL errors', async () => {
    const folder = makeClientFolder();
    try {
      expect((await cli(['exec', '--dir', folder.cfg.dir, 'SELECT 1'])).err).toMatch(
        /use "sync-agent query"/,
      );
      expect((await cli(['query', '--dir', folder.cfg.dir, 'DELETE FROM account'])).err).toMatch(
        /use "sync-agent exec"/,
      );
      const bad = await cli(['exec', '--dir', folder.cfg.dir, 'INSERT INTO nowhere VALUES (1)']);
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/SQL failed \[SQLITE_ERROR\]: no such table: nowhere/);
    } finally {
      folder.cleanup();
    }
  });

  it('dx inspect prints a file and fails with one line naming the problem', async () => {
    const folder = makeClientFolder();
    try {
      await cli(['exec', '--dir', folder.cfg.dir, "INSERT INTO account(name) VALUES ('Acme')"]);
      await cli(['extract', '--dir', folder.cfg.dir]);
      const file = path.join(agentPaths(folder.cfg.dir).outbox, '000000000001.dx');
      const human = await cli(['dx', 'inspect', file]);
      expect(human.code).toBe(0);
      expect(human.out).toMatch(/direction\s+upload/);
      expect(human.out).toMatch(/insert account .* name="Acme"/);
      const json = (await cli(['dx', 'inspect', file, '--json'])).out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(json[0]).toMatchObject({ format: 'outpost-dx', fileSeq: 1, count: 1 });
      expect(json[1]).toMatchObject({ seq: 1, op: 'insert', table: 'account' });

      const broken = path.join(folder.cfg.dir, 'broken.dx');
      const bytes = fs.readFileSync(file);
      fs.writeFileSync(broken, bytes.subarray(0, bytes.length - 12));
      const bad = await cli(['dx', 'inspect', broken]);
      expect(bad.code).toBe(1);
      const lines = bad.err.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: .*broken\.dx is not a valid DX file: (TRUNCATED|BAD_GZIP)/);
    } finally {
      folder.cleanup();
    }
  });

  it('init refuses plain http to another machine before creating anything (INSECURE_HTTP)', async () => {
    const dir = tempDir();
    const args = ['init', '--dir', dir, '--server', 'http://10.255.255.1:1', '--client', 'laptop-1'];
    const { code, out, err } = await cli([...args, '--secret', 's3cret', '--json']);
    expect(code).toBe(1);
    expect(JSON.parse(out)).toMatchObject({ error: { code: 'INSECURE_HTTP', host: '10.255.255.1' } });
    expect(err).toMatch(/refusing plain http:\/\/ to 10\.255\.255\.1:1 \(server URL from --server/);
    expect(fs.existsSync(dir)).toBe(false);
    // Refused before the secret is even read: nothing is taken from standard input.
    const piped = await cli([...args, '--secret-stdin', '--json'], 'never-read\n');
    expect(JSON.parse(piped.out)).toMatchObject({ error: { code: 'INSECURE_HTTP' } });
  });

  it('sync and watch refuse plain http to another machine stored in agent.json, naming the file', async () => {
    const folder = makeClientFolder('http://sync.example.com:8080');
    try {
      for (const command of ['sync', 'watch']) {
        const { code, out, err } = await cli([command, '--dir', folder.cfg.dir, '--json']);
        expect(code).toBe(1);
        expect(JSON.parse(out)).toMatchObject({
          error: { code: 'INSECURE_HTTP', source: agentPaths(folder.cfg.dir).config },
        });
        expect(err).toMatch(`(server URL from ${agentPaths(folder.cfg.dir).config})`);
      }
      const status = await cli(['status', '--dir', folder.cfg.dir, '--json']);
      expect(JSON.parse(status.out)).toMatchObject({ lastSync: null });
    } finally {
      folder.cleanup();
    }
  });

  it('sync with --insecure-http or SYNC_AGENT_INSECURE_HTTP=1 goes on to the network; other values are refused', async () => {
    const folder = makeClientFolder('http://sync.invalid:1');
    const saved = process.env.SYNC_AGENT_INSECURE_HTTP;
    try {
      const flag = await cli(['sync', '--dir', folder.cfg.dir, '--insecure-http']);
      expect(flag.code).toBe(3);
      expect(flag.err).toMatch(
        /cannot reach the sync server at http:\/\/sync\.invalid:1: (ENOTFOUND|EAI_AGAIN)/,
      );
      process.env.SYNC_AGENT_INSECURE_HTTP = '1';
      expect((await cli(['sync', '--dir', folder.cfg.dir])).code).toBe(3);
      process.env.SYNC_AGENT_INSECURE_HTTP = '0';
      const zero = await cli(['sync', '--dir', folder.cfg.dir]);
      expect(zero.code).toBe(1);
      expect(zero.err).toMatch('SYNC_AGENT_INSECURE_HTTP="0": set it to 1');
    } finally {
      if (saved === undefined) delete process.env.SYNC_AGENT_INSECURE_HTTP;
      else process.env.SYNC_AGENT_INSECURE_HTTP = saved;
      folder.cleanup();
    }
  });

  it('init reads the secret from standard input with --secret-stdin and stores it 0600', async () => {
    const gateway = new FakeGateway();
    const url = await gateway.start();
    try {
      const dir = tempDir();
      const args = ['init', '--dir', dir, '--server', url, '--client', 'laptop-1', '--secret-stdin'];
      const { code, err } = await cli(args, 'secret-1\n');
      expect(code).toBe(0);
      expect(err).not.toMatch('secret-1');
      expect(gateway.closedWith).toEqual({ result: { ok: true, uploadedFiles: 0, downloadedFiles: 0 } });
      const credentials = agentPaths(dir).credentials;
      expect(JSON.parse(fs.readFileSync(credentials, 'utf8'))).toEqual({ secret: 'secret-1' });
      expect(fs.statSync(credentials).mode & 0o777).toBe(0o600);
      const empty = await cli(['sync', '--dir', dir, '--secret-stdin'], '\n');
      expect(empty.code).toBe(1);
      expect(empty.err).toMatch('--secret-stdin: standard input gave an empty line');
    } finally {
      await gateway.stop();
    }
  });

  it('refuses a secret given two ways (SECRET_AMBIGUOUS)', async () => {
    const base = ['init', '--dir', tempDir(), '--server', 'http://127.0.0.1:9', '--client', 'laptop-1'];
    const both = await cli([...base, '--secret', 'a', '--secret-stdin', '--json'], 'b\n');
    expect(both.code).toBe(1);
    expect(JSON.parse(both.out)).toMatchObject({
      error: { code: 'SECRET_AMBIGUOUS', sources: ['--secret', '--secret-stdin'] },
    });
    expect(both.err).toMatch('the secret is given 2 ways (--secret, --secret-stdin): give it one way only');
    const saved = process.env.SYNC_AGENT_SECRET;
    process.env.SYNC_AGENT_SECRET = 'from-env';
    try {
      const envAndFlag = await cli([...base, '--secret', 'a']);
      expect(envAndFlag.err).toMatch(
        'the secret is given 2 ways (--secret, SYNC_AGENT_SECRET): give it one way only (unset SYNC_AGENT_SECRET',
      );
    } finally {
      if (saved === undefined) delete process.env.SYNC_AGENT_SECRET;
      else process.env.SYNC_AGENT_SECRET = saved;
    }
  });

  it('init makes the folder 0700 and the store 0600; a folder found open is tightened with a note', async () => {
    const dir = tempDir();
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    const url = `http://127.0.0.1:${await closedPort()}`;
    await cli(['init', '--dir', dir, '--server', url, '--client', 'laptop-1', '--secret', 's3cret']);
    const paths = agentPaths(dir);
    const mode = (file: string) => fs.statSync(file).mode & 0o777;
    expect(mode(dir)).toBe(0o700);
    expect(mode(paths.db)).toBe(0o600);
    expect(mode(paths.credentials)).toBe(0o600);

    fs.chmodSync(dir, 0o755);
    fs.chmodSync(paths.db, 0o644);
    writeAgentConfig({ dir, server: url, client: 'laptop-1', secret: 's3cret', schema: 'sales' });
    fs.chmodSync(paths.credentials, 0o644);
    const { code, err } = await cli(['status', '--dir', dir]);
    expect(code).toBe(0);
    expect(err).toMatch(`note: the client folder was open to other users of this machine; tightened:`);
    expect(err).toMatch(`${paths.credentials} was 0644, now 0600`);
    expect(err).toMatch('ask the administrator for a new secret');
    expect([mode(dir), mode(paths.db), mode(paths.credentials)]).toEqual([0o700, 0o600, 0o600]);
    expect((await cli(['status', '--dir', dir])).err).toBe('');
  });
});
