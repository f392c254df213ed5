import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { agentPaths } from './config/agent-config';
import { runCli } from './program';
import { closedPort, FakeGateway } from './testing/fake-gateway';
import { bufferIo, makeClientFolder } from './testing/fixtures';

async function cli(args: string[]) {
  const io = bufferIo();
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
});
