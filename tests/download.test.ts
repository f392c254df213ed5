/**
 * The download path: a new client's extract while changes keep arriving, a row leaving a client's
 * visibility, an interrupted download resumed, a re-extract that keeps unsent local changes.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '@outpost/test-support';
import { admin, agent } from './support/cli';
import { exec, query, syncUntil } from './support/laptops';
import { createWorld, type World } from './support/world';

describe('download', () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  const laptop = (name: string, user: string, extract = true) => world.laptop(name, user, { extract });

  async function insertAccounts(owner: string, names: string[]): Promise<void> {
    const values = names.map((_, i) => `($${i * 2 + 1}::uuid, $${i * 2 + 2}, '${owner}')`).join(', ');
    await world.db.query(
      `INSERT INTO account (id, name, owner_login) VALUES ${values}`,
      names.flatMap((name) => [randomUUID(), name]),
    );
  }

  /** Syncs until the laptop holds exactly the server's rows of the query (the server routes asynchronously). */
  const converge = (dir: string, laptopSql: string, serverSql: string) =>
    syncUntil(dir, laptopSql, async () => (await world.db.query(serverSql)).rows);

  it('extracts a new client while changes keep arriving, missing and doubling nothing', async () => {
    await insertAccounts(
      'ivy',
      Array.from({ length: 300 }, (_, i) => `Before ${i}`),
    );
    let writing = true;
    let batch = 0;
    const writer = (async () => {
      while (writing) {
        batch += 1;
        await insertAccounts(
          'ivy',
          Array.from({ length: 20 }, (_, i) => `During ${batch}-${i}`),
        );
      }
    })();
    const dir = await laptop('ivy-laptop', 'ivy');
    writing = false;
    await writer;
    expect(batch).toBeGreaterThan(0);

    const local = await converge(
      dir,
      `SELECT name FROM account ORDER BY name`,
      `SELECT name FROM account WHERE owner_login = 'ivy' ORDER BY name COLLATE "C"`,
    );
    expect(local.length).toBe(300 + batch * 20);
    const distinct = await query(dir, 'SELECT count(DISTINCT id) AS n, count(*) AS total FROM account');
    expect(distinct).toEqual([{ n: local.length, total: local.length }]);
  });

  it('drops a row that leaves the client’s visibility, without deleting it anywhere', async () => {
    const dir = await laptop('jack-laptop', 'jack');
    const account = randomUUID();
    const opportunity = randomUUID();
    const team = randomUUID();
    await world.db.query(`INSERT INTO account (id, name, owner_login) VALUES ($1, 'Visible Co', 'kate')`, [
      account,
    ]);
    await world.db.query(
      `INSERT INTO opportunity (id, account_id, name, stage, owner_login) VALUES ($1, $2, 'Shared deal', 'Prospecting', 'kate')`,
      [opportunity, account],
    );
    await world.db.query(
      `INSERT INTO opportunity_team (id, opportunity_id, user_login) VALUES ($1, $2, 'jack')`,
      [team, opportunity],
    );
    await converge(
      dir,
      `SELECT name FROM opportunity`,
      `SELECT name FROM opportunity WHERE id = '${opportunity}'`,
    );
    expect(await query(dir, 'SELECT name FROM account')).toEqual([{ name: 'Visible Co' }]);

    await world.db.query(`DELETE FROM opportunity_team WHERE id = $1`, [team]);
    await converge(dir, `SELECT name FROM opportunity`, `SELECT name FROM opportunity WHERE false`);
    expect(await query(dir, 'SELECT name FROM account')).toEqual([]);
    expect(await query(dir, 'SELECT count(*) AS n FROM _outpost_log')).toEqual([{ n: 0 }]);
    const server = await world.db.query(`SELECT count(*)::int AS n FROM opportunity WHERE id = $1`, [
      opportunity,
    ]);
    expect(server.rows[0].n).toBe(1);
  });

  it('resumes a download interrupted halfway', async () => {
    const dir = await laptop('liam-laptop', 'liam');
    // Names that do not compress away, so the file is large enough to be cut in the middle.
    await insertAccounts(
      'liam',
      Array.from(
        { length: 3000 },
        (_, i) => `Resume ${String(i).padStart(4, '0')} ${randomUUID()} ${randomUUID()}`,
      ),
    );
    await waitFor(
      async () => {
        const r = await world.db.query(
          `SELECT count(*)::int AS n FROM sync_outbound_file WHERE client = 'liam-laptop' AND kind = 'changes'`,
        );
        return r.rows[0].n > 0;
      },
      { timeoutMs: 30_000, description: "liam's changes routed" },
    );
    const interrupted = await agent(['sync', '--dir', dir], { SYNC_AGENT_TEST_CRASH: 'mid-download' });
    expect(interrupted.code).not.toBe(0);
    const partial = readdirSync(path.join(dir, 'inbox')).filter((f) => f.endsWith('.part'));
    expect(partial).toHaveLength(1);
    const listed = await world.db.query(
      `SELECT size::int FROM sync_outbound_file WHERE client = 'liam-laptop' AND acked_at IS NULL ORDER BY epoch, file_seq LIMIT 1`,
    );
    const cut = statSync(path.join(dir, 'inbox', partial[0]!)).size;
    expect(cut).toBeGreaterThan(0);
    expect(cut).toBeLessThan(listed.rows[0].size);
    expect(await query(dir, 'SELECT count(*) AS n FROM account')).toEqual([{ n: 0 }]);

    const local = await converge(
      dir,
      `SELECT name FROM account ORDER BY name`,
      `SELECT name FROM account WHERE owner_login = 'liam' ORDER BY name COLLATE "C"`,
    );
    expect(local).toHaveLength(3000);
    expect(readdirSync(path.join(dir, 'inbox')).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('re-extracts a client and keeps its unsent local changes', async () => {
    const dir = await laptop('mia-laptop', 'mia');
    await insertAccounts('mia', ['Mia One', 'Mia Two']);
    await converge(
      dir,
      `SELECT name FROM account ORDER BY name`,
      `SELECT name FROM account WHERE owner_login = 'mia' ORDER BY name COLLATE "C"`,
    );

    await exec(dir, `INSERT INTO account (name, owner_login) VALUES ('Mia Offline', 'mia')`);
    await exec(dir, `UPDATE account SET name = 'Mia Two (renamed)' WHERE name = 'Mia Two'`);
    const requested = await admin(['clients', 'reextract', 'mia-laptop'], world.stack);
    expect(requested.code).toBe(0);
    await insertAccounts('mia', ['Mia Three']);

    const local = await converge(
      dir,
      `SELECT name FROM account ORDER BY name`,
      `SELECT name FROM account WHERE owner_login = 'mia' ORDER BY name COLLATE "C"`,
    );
    expect(local).toEqual([
      { name: 'Mia Offline' },
      { name: 'Mia One' },
      { name: 'Mia Three' },
      { name: 'Mia Two (renamed)' },
    ]);
  });
});
