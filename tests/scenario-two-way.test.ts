/**
 * Sync goes both ways: the whole scenario with two laptops, plus a third that must not see the
 * opportunity and a row written straight into Postgres that must reach its owner's laptop.
 */
import { randomUUID } from 'node:crypto';
import { waitFor } from '@outpost/test-support';
import { exec, query, sync, syncUntil } from './support/laptops';
import { createWorld, type World } from './support/world';

describe('two-way sync between laptops through the server', () => {
  let world: World;

  const laptop = (name: string, user: string) => world.laptop(`${name}-laptop`, user);
  const syncTotals = (dir: string) => sync<{ uploaded: { txns: number }; downloaded: { txns: number } }>(dir);

  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('A creates, B receives and changes, A receives the change, C never sees it, a direct write reaches B', async () => {
    const a = await laptop('a', 'alice');
    const b = await laptop('b', 'bob');
    const c = await laptop('c', 'carol');
    const account = randomUUID();
    const opportunity = randomUUID();

    // User A creates an account and an opportunity offline, with B on the team, and syncs.
    await exec(a, `INSERT INTO account (id, name, owner_login) VALUES ('${account}', 'Contoso', 'alice')`);
    await exec(
      a,
      `INSERT INTO contact (account_id, last_name, email) VALUES ('${account}', 'Ng', 'ng@contoso.example')`,
    );
    await exec(
      a,
      `INSERT INTO opportunity (id, account_id, name, stage, amount, owner_login)
       VALUES ('${opportunity}', '${account}', 'Contoso expansion', 'Qualification', '50000.00', 'alice')`,
    );
    await exec(
      a,
      `INSERT INTO opportunity_team (opportunity_id, user_login) VALUES ('${opportunity}', 'bob')`,
    );
    const first = await syncTotals(a);
    expect(first.uploaded.txns).toBe(4);

    // B (on the team) syncs and receives the opportunity, its account and the account's contact.
    await syncUntil(b, `SELECT name, stage, amount FROM opportunity`, [
      { name: 'Contoso expansion', stage: 'Qualification', amount: '50000.00' },
    ]);
    expect(await query(b, 'SELECT name FROM account')).toEqual([{ name: 'Contoso' }]);
    expect(await query(b, 'SELECT last_name FROM contact')).toEqual([{ last_name: 'Ng' }]);

    // B goes offline, changes the opportunity, and syncs: the server has B's change.
    await exec(
      b,
      `UPDATE opportunity SET stage = 'Proposal', amount = '62500.00' WHERE id = '${opportunity}'`,
    );
    await sync(b);
    await waitFor(
      async () =>
        (await world.db.query(`SELECT stage FROM opportunity WHERE id = $1`, [opportunity])).rows[0]
          ?.stage === 'Proposal',
      { timeoutMs: 30_000, description: "B's change on the server" },
    );

    // A syncs and receives B's change.
    await syncUntil(a, `SELECT stage, amount FROM opportunity`, [{ stage: 'Proposal', amount: '62500.00' }]);

    // A row inserted directly into Postgres with B as owner reaches B.
    const direct = randomUUID();
    await world.db.query(
      `INSERT INTO opportunity (id, account_id, name, stage, amount, owner_login) VALUES ($1, $2, 'Web shop lead', 'Prospecting', 990.10, 'bob')`,
      [direct, account],
    );
    await syncUntil(b, `SELECT name FROM opportunity WHERE id = '${direct}'`, [{ name: 'Web shop lead' }]);

    // C, not on the team, never receives the opportunity nor its account.
    await sync(c);
    await sync(c);
    expect(await query(c, 'SELECT id FROM opportunity')).toEqual([]);
    expect(await query(c, 'SELECT id FROM account')).toEqual([]);

    // No echo: B's own change never came back to B as a download, and B's log holds nothing new.
    const bLog = await query(b, 'SELECT count(*) AS n FROM _outpost_log WHERE file_seq IS NULL');
    expect(bLog).toEqual([{ n: 0 }]);
  });
});
