/**
 * On the laptop: the agent sends nothing over plain http to another machine, keeps the secret out
 * of the command line, and keeps its folder, store and credentials to the laptop's user.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { agent, agentJson } from '../support/cli';
import { exec } from '../support/laptops';
import { createWorld, type World } from '../support/world';

const mode = (file: string) => statSync(file).mode & 0o777;
const NETWORK_ERRORS = /ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|cannot reach/;

/**
 * An address of this machine that is not loopback, so a listener here sees any connection the agent
 * would open: the first external IPv4 interface, else the host name (the agent trusts no name but
 * localhost, whatever it resolves to).
 */
function nonLoopbackHost(): string {
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  return external?.address ?? os.hostname();
}

/** A TCP listener on every interface that counts connections and drops them. */
async function connectionCounter(): Promise<{
  port: number;
  count: () => number;
  close: () => Promise<void>;
}> {
  let count = 0;
  const server = net.createServer((socket) => {
    count += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    count: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('the laptop agent', () => {
  let world: World;
  let listener: Awaited<ReturnType<typeof connectionCounter>>;

  beforeAll(async () => {
    world = await createWorld();
    listener = await connectionCounter();
  });
  afterAll(async () => {
    await listener?.close();
    await world?.close();
  });

  it('refuses plain http to a host other than loopback before opening any connection (INSECURE_HTTP)', async () => {
    const remote = `http://${nonLoopbackHost()}:${listener.port}`;
    for (const server of [remote, 'http://10.255.255.1:1', 'http://sync.invalid:8080']) {
      const dir = world.laptopDir('remote-http');
      const started = Date.now();
      const init = await agent([
        'init',
        '--dir',
        dir,
        '--server',
        server,
        '--client',
        'remote-http',
        '--secret',
        'never-sent',
        '--json',
      ]);
      expect(init.code).toBe(1);
      expect(JSON.parse(init.stdout)).toMatchObject({
        error: { code: 'INSECURE_HTTP', server, source: '--server or SYNC_AGENT_SERVER' },
      });
      expect(init.stderr).toMatch(/Use the https:\/\/ URL of the server .* or pass --insecure-http/);
      expect(init.stderr).not.toMatch(NETWORK_ERRORS);
      // 10.255.255.1 answers nothing: a connection attempt would hang for the socket timeout.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(existsSync(dir)).toBe(false);
    }
    expect(listener.count()).toBe(0);

    // A laptop set up over loopback: an override or an edited agent.json is refused at every sync.
    const dir = await world.laptop('remote-http', 'alice', { extract: false });
    const override = await agent(['sync', '--dir', dir, '--server', remote, '--json']);
    expect(JSON.parse(override.stdout)).toMatchObject({ error: { code: 'INSECURE_HTTP' } });
    const config = path.join(dir, 'agent.json');
    writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), server: remote }));
    for (const command of ['sync', 'watch']) {
      const refused = await agent([command, '--dir', dir, '--json']);
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: 'INSECURE_HTTP', source: config } });
    }
    expect(listener.count()).toBe(0);

    // The control: with --insecure-http the same URL is tried, so the count above could have moved.
    const accepted = await agent(['sync', '--dir', dir, '--insecure-http', '--json']);
    expect(accepted.code).toBe(3);
    expect(listener.count()).toBeGreaterThan(0);
  });

  it('takes the secret from standard input (--secret-stdin) and syncs with it against the real stack', async () => {
    const secret = await world.register('stdin-laptop', 'alice');
    const dir = world.laptopDir('stdin-laptop');
    const init = await agent(
      [
        'init',
        '--dir',
        dir,
        '--server',
        world.stack.gatewayUrl,
        '--client',
        'stdin-laptop',
        '--secret-stdin',
      ],
      {},
      `${secret}\n`,
    );
    expect(init.code).toBe(0);
    expect(`${init.stdout}${init.stderr}`).not.toContain(secret);
    expect(JSON.parse(readFileSync(path.join(dir, 'credentials.json'), 'utf8'))).toEqual({ secret });

    await exec(dir, `INSERT INTO account (name, owner_login) VALUES ('Piped Secret Ltd', 'alice')`);
    const summary = await agentJson<{ uploaded: { files: number } }>(['sync', '--dir', dir]);
    expect(summary.uploaded.files).toBe(1);
    await world.applied('stdin-laptop', 1);
    const rows = await world.db.query(`SELECT owner_login FROM account WHERE name = 'Piped Secret Ltd'`);
    expect(rows.rows).toEqual([{ owner_login: 'alice' }]);

    // The piped secret is the one used: a wrong one is refused by the server, not replaced by the file's.
    const wrong = await agent(['sync', '--dir', dir, '--secret-stdin', '--json'], {}, 'not-the-secret\n');
    expect(wrong.code).toBe(4);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ error: { code: 'SERVER_ERROR' } });
    const both = await agent(
      ['sync', '--dir', dir, '--secret-stdin', '--json'],
      { SYNC_AGENT_SECRET: secret },
      `${secret}\n`,
    );
    expect(both.code).toBe(1);
    expect(JSON.parse(both.stdout)).toMatchObject({
      error: { code: 'SECRET_AMBIGUOUS', sources: ['SYNC_AGENT_SECRET', '--secret-stdin'] },
    });
  });

  it('leaves the folder 0700 and the database, its WAL files and the credentials 0600 after init and sync', async () => {
    const dir = await world.laptop('modes-laptop', 'alice');
    const db = path.join(dir, 'local.db');
    // A second program holding the store open keeps -wal and -shm in place after the agent exits.
    const reader = new Database(db, { readonly: true });
    try {
      reader.prepare('SELECT count(*) FROM account').get();
      await exec(dir, `INSERT INTO account (name, owner_login) VALUES ('Private Files Ltd', 'alice')`);
      await agentJson(['sync', '--dir', dir]);
      expect(mode(dir)).toBe(0o700);
      expect(mode(path.join(dir, 'credentials.json'))).toBe(0o600);
      for (const file of [db, `${db}-wal`, `${db}-shm`]) {
        expect(existsSync(file)).toBe(true);
        expect({ file, mode: mode(file) }).toEqual({ file, mode: 0o600 });
      }
    } finally {
      reader.close();
    }
  });
});
