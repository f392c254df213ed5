/**
 * Conflicts as people meet them: two laptops change the same opportunity offline. Nothing is lost
 * without a trace: the administrator sees the conflict, the losing laptop is told on its next sync,
 * and both laptops end with the server's version.
 */
import { randomUUID } from 'node:crypto';
import { admin, adminJson, agentJson } from './support/cli';
import { exec, query, sync, syncUntil } from './support/laptops';
import { createWorld, type World } from './support/world';

describe('conflicts end to end', () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  const laptop = (name: string, user: string) => world.laptop(name, user);
  const applied = (client: string, fileSeq: number) => world.applied(client, fileSeq);

  it('server wins on the same field, different fields merge, the loser learns of it and converges', async () => {
    const opportunity = randomUUID();
    const account = randomUUID();
    await world.db.query(`INSERT INTO account (id, name, owner_login) VALUES ($1, 'Fabrikam', 'nina')`, [
      account,
    ]);
    await world.db.query(
      `INSERT INTO opportunity (id, account_id, name, stage, amount, owner_login) VALUES ($1, $2, 'Fabrikam pilot', 'Prospecting', 1000, 'nina')`,
      [opportunity, account],
    );
    const first = await laptop('nina-laptop', 'nina');
    const second = await laptop('nina-tablet', 'nina');
    expect(await query(second, 'SELECT stage FROM opportunity')).toEqual([{ stage: 'Prospecting' }]);

    // Both offline: the laptop changes stage and amount, the tablet changes stage and name.
    await exec(
      first,
      `UPDATE opportunity SET stage = 'Proposal', amount = '2000.00' WHERE id = '${opportunity}'`,
    );
    await exec(
      second,
      `UPDATE opportunity SET stage = 'Closed Lost', name = 'Fabrikam pilot (renamed)' WHERE id = '${opportunity}'`,
    );
    await sync(first);
    await applied('nina-laptop', 1);
    await sync(second);
    await applied('nina-tablet', 1);

    // The server kept its stage (server-wins), took the tablet's name (no conflict on that column).
    const server = await world.db.query(
      `SELECT stage, amount::text AS amount, name FROM opportunity WHERE id = $1`,
      [opportunity],
    );
    expect(server.rows).toEqual([{ stage: 'Proposal', amount: '2000.00', name: 'Fabrikam pilot (renamed)' }]);

    // The administrator sees the conflict, with both values and who won.
    const conflicts = await adminJson<Array<Record<string, unknown>>>(
      ['conflicts', 'list', '--client', 'nina-tablet'],
      world.stack,
    );
    expect(conflicts).toEqual([
      expect.objectContaining({
        kind: 'update-update',
        table: 'opportunity',
        rowId: opportunity,
        column: 'stage',
        serverValue: 'Proposal',
        clientValue: 'Closed Lost',
        clientOrigin: 'nina-tablet',
        serverOrigin: 'nina-laptop',
        policy: 'server-wins',
        winner: 'server',
      }),
    ]);
    expect((await admin(['conflicts', 'list'], world.stack)).stdout).toMatch(/stage/);

    // The tablet learns of it on its next sync, and both converge to the server's row.
    await syncUntil(second, `SELECT stage, amount, name FROM opportunity`, server.rows);
    const status = await agentJson<{ conflicts: Array<Record<string, unknown>> }>([
      'status',
      '--dir',
      second,
    ]);
    expect(status.conflicts).toEqual([
      expect.objectContaining({ column: 'stage', clientValue: 'Closed Lost', winner: 'server' }),
    ]);
    await syncUntil(first, `SELECT stage, amount, name FROM opportunity`, server.rows);
    const winnerStatus = await agentJson<{ conflicts: unknown[] }>(['status', '--dir', first]);
    expect(winnerStatus.conflicts).toEqual([]);
  });

  it('a delete wins over an offline update, and the update is on record', async () => {
    const account = randomUUID();
    await world.db.query(`INSERT INTO account (id, name, owner_login) VALUES ($1, 'Tailspin Toys', 'omar')`, [
      account,
    ]);
    const editor = await laptop('omar-laptop', 'omar');
    const remover = await laptop('omar-tablet', 'omar');
    await exec(editor, `UPDATE account SET name = 'Tailspin Toys Ltd' WHERE id = '${account}'`);
    await exec(remover, `DELETE FROM account WHERE id = '${account}'`);
    await sync(remover);
    await applied('omar-tablet', 1);
    await sync(editor);
    await applied('omar-laptop', 1);

    expect((await world.db.query(`SELECT 1 FROM account WHERE id = $1`, [account])).rowCount).toBe(0);
    const conflicts = await adminJson<Array<Record<string, unknown>>>(
      ['conflicts', 'list', '--client', 'omar-laptop'],
      world.stack,
    );
    expect(conflicts).toEqual([
      expect.objectContaining({
        kind: 'update-delete',
        rowId: account,
        policy: 'delete-wins',
        winner: 'server',
      }),
    ]);
    expect(JSON.stringify(conflicts[0])).toMatch(/Tailspin Toys Ltd/);
    await syncUntil(editor, `SELECT id FROM account WHERE id = '${account}'`, []);
  });

  it('keeps both rows of a duplicate business key and marks the later one', async () => {
    const first = await laptop('pia-laptop', 'pia');
    const second = await laptop('pia-tablet', 'pia');
    await exec(first, `INSERT INTO account (name, owner_login) VALUES ('Litware', 'pia')`);
    await exec(second, `INSERT INTO account (name, owner_login) VALUES ('Litware', 'pia')`);
    await sync(first);
    await applied('pia-laptop', 1);
    await sync(second);
    await applied('pia-tablet', 1);

    const rows = await world.db.query(
      `SELECT id::text, sync_conflict_of::text FROM account WHERE name = 'Litware' ORDER BY sync_conflict_of NULLS FIRST`,
    );
    expect(rows.rows).toHaveLength(2);
    expect(rows.rows[0].sync_conflict_of).toBeNull();
    expect(rows.rows[1].sync_conflict_of).toBe(rows.rows[0].id);
    const conflicts = await adminJson<Array<Record<string, unknown>>>(
      ['conflicts', 'list', '--client', 'pia-tablet'],
      world.stack,
    );
    expect(conflicts).toEqual([expect.objectContaining({ kind: 'duplicate-key', table: 'account' })]);

    // Both laptops get both rows; the marked one carries its own id, not the holder's.
    const marked = rows.rows.map((r: { id: string; sync_conflict_of: string | null }) => ({
      id: r.id,
      sync_conflict_of: r.sync_conflict_of === null ? null : r.id,
    }));
    for (const dir of [first, second]) {
      await syncUntil(
        dir,
        `SELECT id, sync_conflict_of FROM account WHERE name = 'Litware' ORDER BY sync_conflict_of IS NOT NULL`,
        marked,
      );
    }
  });

  it('client-wins (accounts): the later sync takes the column, the server value is on record', async () => {
    const account = randomUUID();
    await world.db.query(`INSERT INTO account (id, name, owner_login) VALUES ($1, 'Adatum', 'quinn')`, [
      account,
    ]);
    const first = await laptop('quinn-laptop', 'quinn');
    const second = await laptop('quinn-tablet', 'quinn');
    await exec(first, `UPDATE account SET name = 'Adatum Corp' WHERE id = '${account}'`);
    await exec(second, `UPDATE account SET name = 'Adatum Corporation' WHERE id = '${account}'`);
    await sync(first);
    await applied('quinn-laptop', 1);
    await sync(second);
    await applied('quinn-tablet', 1);

    const server = await world.db.query(`SELECT name FROM account WHERE id = $1`, [account]);
    expect(server.rows).toEqual([{ name: 'Adatum Corporation' }]);
    const conflicts = await adminJson<Array<Record<string, unknown>>>(
      ['conflicts', 'list', '--client', 'quinn-tablet'],
      world.stack,
    );
    expect(conflicts).toEqual([
      expect.objectContaining({
        kind: 'update-update',
        column: 'name',
        serverValue: 'Adatum Corp',
        clientValue: 'Adatum Corporation',
        policy: 'client-wins',
        winner: 'client',
      }),
    ]);
    await syncUntil(first, `SELECT name FROM account WHERE id = '${account}'`, server.rows);
    await syncUntil(second, `SELECT name FROM account WHERE id = '${account}'`, server.rows);
  });

  it('latest-wins (contacts): the later edit wins even when it syncs last', async () => {
    const account = randomUUID();
    const contact = randomUUID();
    await world.db.query(`INSERT INTO account (id, name, owner_login) VALUES ($1, 'Wingtip', 'rosa')`, [
      account,
    ]);
    await world.db.query(
      `INSERT INTO contact (id, account_id, last_name, email) VALUES ($1, $2, 'Diaz', 'diaz@wingtip.example')`,
      [contact, account],
    );
    const early = await laptop('rosa-laptop', 'rosa');
    const late = await laptop('rosa-tablet', 'rosa');
    await exec(early, `UPDATE contact SET email = 'early@wingtip.example' WHERE id = '${contact}'`);
    await exec(late, `UPDATE contact SET email = 'late@wingtip.example' WHERE id = '${contact}'`);
    // The earlier edit reaches the server first; the later edit still wins when it arrives.
    await sync(early);
    await applied('rosa-laptop', 1);
    await sync(late);
    await applied('rosa-tablet', 1);
    const after = await world.db.query(`SELECT email FROM contact WHERE id = $1`, [contact]);
    expect(after.rows).toEqual([{ email: 'late@wingtip.example' }]);

    // And an edit older than the server's loses, even though it syncs last.
    await exec(early, `UPDATE contact SET last_name = 'Diaz Ortega' WHERE id = '${contact}'`);
    await exec(late, `UPDATE contact SET last_name = 'Ortega' WHERE id = '${contact}'`);
    await sync(late);
    await applied('rosa-tablet', 2);
    await sync(early);
    await applied('rosa-laptop', 2);
    const final = await world.db.query(`SELECT email, last_name FROM contact WHERE id = $1`, [contact]);
    expect(final.rows).toEqual([{ email: 'late@wingtip.example', last_name: 'Ortega' }]);
    const conflicts = await adminJson<Array<Record<string, unknown>>>(['conflicts', 'list'], world.stack);
    const mine = conflicts.filter((c) => c.rowId === contact);
    expect(mine).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          column: 'email',
          policy: 'latest-wins',
          winner: 'client',
          clientOrigin: 'rosa-tablet',
        }),
        expect.objectContaining({
          column: 'last_name',
          policy: 'latest-wins',
          winner: 'server',
          clientOrigin: 'rosa-laptop',
        }),
      ]),
    );
    await syncUntil(early, `SELECT email, last_name FROM contact`, final.rows);
    await syncUntil(late, `SELECT email, last_name FROM contact`, final.rows);
  });

  it('resurrect (contacts): a contact deleted at the office but updated in the field comes back whole', async () => {
    const account = randomUUID();
    const contact = randomUUID();
    await world.db.query(`INSERT INTO account (id, name, owner_login) VALUES ($1, 'Proseware', 'sam')`, [
      account,
    ]);
    await world.db.query(
      `INSERT INTO contact (id, account_id, first_name, last_name, email) VALUES ($1, $2, 'Lee', 'Chen', 'chen@proseware.example')`,
      [contact, account],
    );
    const field = await laptop('sam-laptop', 'sam');
    const office = await laptop('sam-desktop', 'sam');
    await exec(field, `UPDATE contact SET email = 'lee.chen@proseware.example' WHERE id = '${contact}'`);
    await exec(office, `DELETE FROM contact WHERE id = '${contact}'`);
    await sync(office);
    await applied('sam-desktop', 1);
    expect((await world.db.query(`SELECT 1 FROM contact WHERE id = $1`, [contact])).rowCount).toBe(0);
    await sync(field);
    await applied('sam-laptop', 1);

    const back = await world.db.query(`SELECT first_name, last_name, email FROM contact WHERE id = $1`, [
      contact,
    ]);
    expect(back.rows).toEqual([
      { first_name: 'Lee', last_name: 'Chen', email: 'lee.chen@proseware.example' },
    ]);
    const conflicts = await adminJson<Array<Record<string, unknown>>>(
      ['conflicts', 'list', '--client', 'sam-laptop'],
      world.stack,
    );
    expect(conflicts).toEqual([
      expect.objectContaining({
        kind: 'update-delete',
        rowId: contact,
        policy: 'resurrect',
        winner: 'client',
      }),
    ]);
    await syncUntil(office, `SELECT first_name, last_name, email FROM contact`, back.rows);
    await syncUntil(field, `SELECT first_name, last_name, email FROM contact`, back.rows);
  });
});
