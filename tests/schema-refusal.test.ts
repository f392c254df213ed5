/**
 * A laptop holding a newer schema than the server it reaches (a server rolled back, or an old
 * replica still answering during an upgrade) is refused before anything moves, told what to do,
 * and loses nothing: its change goes up to a server of its own version afterwards.
 */
import { agent, agentJson } from './support/cli';
import { exec } from './support/laptops';
import { createWorld, type World } from './support/world';

interface Status {
  schema: { name: string; version: number };
  pendingTransactions: number;
  outboxFiles: number;
}

describe('a laptop the server cannot serve', () => {
  let newer: World;
  let older: World;

  beforeAll(async () => {
    [newer, older] = await Promise.all([
      createWorld({ schema: 'sales@3' }),
      createWorld({ schema: 'sales@2' }),
    ]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([newer?.close(), older?.close()]);
  });

  it('refuses a laptop newer than the server with SCHEMA_TOO_NEW and what to do, keeping its change', async () => {
    const dir = await newer.laptop('nova-laptop', 'nova');
    await exec(dir, `INSERT INTO account (name, owner_login) VALUES ('Nova Ltd', 'nova')`);
    const secret = await older.register('nova-laptop', 'nova');

    const refused = await agent([
      'sync',
      '--dir',
      dir,
      '--server',
      older.stack.gatewayUrl,
      '--secret',
      secret,
      '--json',
    ]);
    expect(refused.code).not.toBe(0);
    const { error } = JSON.parse(refused.stdout) as {
      error: { code: string; message: string; serverCode: string };
    };
    expect([error.code, error.serverCode]).toEqual(['SERVER_ERROR', 'SCHEMA_TOO_NEW']);
    expect(error.message).toMatch(/holds schema sales v3, newer than the server's v2/);
    expect(error.message).toMatch(/nothing is lost/);
    const held = await older.db.query(
      `SELECT count(*)::int AS n FROM sync_inbox_file WHERE client = 'nova-laptop'`,
    );
    expect(held.rows[0].n).toBe(0);

    const waiting = await agentJson<Status>(['status', '--dir', dir]);
    expect(waiting.schema.version).toBe(3);
    expect(waiting.pendingTransactions + waiting.outboxFiles).toBeGreaterThan(0);

    await agentJson(['sync', '--dir', dir]);
    await newer.applied('nova-laptop', 1);
    const kept = await newer.db.query(`SELECT owner_login FROM account WHERE name = 'Nova Ltd'`);
    expect(kept.rows).toEqual([{ owner_login: 'nova' }]);
  });
});
