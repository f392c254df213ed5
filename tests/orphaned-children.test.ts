/**
 * A parent deleted while its children stay behind (the laptop application deleted only the
 * parent): the children are visible to nobody, so every laptop that holds them drops them, even
 * where a team row or a referencing row still names the deleted parent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { salesSchema } from '@outpost/schema';
import { captureBarrier } from '@outpost/server-db';
import { waitFor } from '@outpost/test-support';
import { checkAgainstOracle, laptopRows } from './support/oracle';
import { StormLaptop } from './support/storm';
import { createWorld, type World } from './support/world';

describe('children of a deleted parent', () => {
  let world: World;
  let root: string;

  beforeAll(async () => {
    world = await createWorld();
    root = mkdtempSync(path.join(os.tmpdir(), 'outpost-orphans-'));
  });
  afterAll(async () => {
    await world?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const insert = async (sql: string, values: unknown[]): Promise<string> =>
    (await world.db.query(`${sql} RETURNING id::text`, values)).rows[0].id;

  it('leave every laptop, though a team row or an opportunity still names the parent', async () => {
    // The manager owns both accounts and is on the team of the opportunity that will be deleted.
    const teamAccount = await insert(
      `INSERT INTO account (id, name, owner_login) VALUES (gen_random_uuid(), 'Team account', 'boss')`,
      [],
    );
    const deal = await insert(
      `INSERT INTO opportunity (id, account_id, name, stage, owner_login) VALUES (gen_random_uuid(), $1, 'Deal', 'prospect', 'rep1')`,
      [teamAccount],
    );
    const teamRow = await insert(
      `INSERT INTO opportunity_team (id, opportunity_id, user_login) VALUES (gen_random_uuid(), $1, 'boss')`,
      [deal],
    );
    // An account the rep sees only through its opportunity, with a contact.
    const referenced = await insert(
      `INSERT INTO account (id, name, owner_login) VALUES (gen_random_uuid(), 'Referenced', 'boss')`,
      [],
    );
    await insert(
      `INSERT INTO opportunity (id, account_id, name, stage, owner_login) VALUES (gen_random_uuid(), $1, 'Kept deal', 'prospect', 'rep1')`,
      [referenced],
    );
    const contact = await insert(
      `INSERT INTO contact (id, account_id, last_name) VALUES (gen_random_uuid(), $1, 'Left behind')`,
      [referenced],
    );
    const boss = await StormLaptop.create(world.stack, root, 'orphans-boss', 'boss');
    const rep = await StormLaptop.create(world.stack, root, 'orphans-rep', 'rep1');
    expect(laptopRows(salesSchema, { dbFile: boss.dbFile }).get('opportunity_team')?.has(teamRow)).toBe(true);
    expect(laptopRows(salesSchema, { dbFile: rep.dbFile }).get('contact')?.has(contact)).toBe(true);

    await rep.write((store) => store.db.prepare('DELETE FROM opportunity WHERE id = ?').run(deal));
    await boss.write((store) => store.db.prepare('DELETE FROM account WHERE id = ?').run(referenced));
    await rep.sync();
    await boss.sync();

    await waitFor(
      async () => {
        await captureBarrier(world.db, { timeoutMs: 30_000 });
        await Promise.all([rep.sync(), boss.sync()]);
        const held = {
          teamRow: laptopRows(salesSchema, { dbFile: boss.dbFile }).get('opportunity_team')?.has(teamRow),
          contact: laptopRows(salesSchema, { dbFile: rep.dbFile }).get('contact')?.has(contact),
        };
        return !held.teamRow && !held.contact ? held : undefined;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 500,
        description: 'the left-behind team row and contact dropped by the laptops',
      },
    );
    for (const laptop of [boss, rep]) {
      expect(await checkAgainstOracle(world.db, salesSchema, laptop.user, { dbFile: laptop.dbFile })).toEqual(
        [],
      );
    }
  });
});
