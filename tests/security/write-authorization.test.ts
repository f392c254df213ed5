/**
 * A laptop is not trusted: every change it uploads is checked, on the server, against what its
 * user may see and do. Each hostile case ends in a refusal that is recorded with its reason, nothing
 * of it applied, the hostile laptop's own copy brought back to what it may see, and the honest
 * laptops untouched.
 */
import { randomUUID } from 'node:crypto';
import { RefusalCode, type ConflictView, type RefusalView } from '@outpost/contracts';
import { waitFor } from '@outpost/test-support';
import { adminJson, agentJson } from '../support/cli';
import { exec, query, sync, syncUntil } from '../support/laptops';
import { RawLaptop } from '../support/raw-laptop';
import { createWorld, type World } from '../support/world';

type SyncSummary = { refused: number; uploaded: { txns: number } };

describe('write authorization: a laptop changes only what its user may see and do', () => {
  let world: World;
  let alice: string;
  let mallory: string;
  let bob: string;
  const aliceAccount = randomUUID();
  const aliceOpportunity = randomUUID();
  const aliceContact = randomUUID();

  const refusals = (client: string) =>
    adminJson<RefusalView[]>(['refusals', 'list', '--client', client], world.stack);
  const serverRow = async (table: string, id: string) =>
    (await world.db.query(`SELECT * FROM ${table} WHERE id = $1`, [id])).rows[0] as
      Record<string, unknown> | undefined;
  /** Waits until every upload file of the client has been processed (applied or refused). */
  const settled = async (client: string) =>
    waitFor(
      async () =>
        (
          await world.db.query(
            `SELECT count(*)::int AS n FROM sync_inbox_file WHERE client = $1 AND status = 'received'`,
            [client],
          )
        ).rows[0].n === 0,
      { timeoutMs: 30_000, description: `every upload of ${client} processed` },
    );
  /** A change on the laptop, then a sync: returns how many changes the server refused. */
  const attempt = async (dir: string, client: string, sql: string): Promise<number> => {
    await exec(dir, sql);
    const first = await sync<SyncSummary>(dir);
    await settled(client);
    // The first sync learns of the refusals when the server was quick enough, else the second.
    return first.refused + (await sync<SyncSummary>(dir)).refused;
  };
  const refusalOf = async (client: string, rowId: string) =>
    (await refusals(client)).filter((r) => r.rowId === rowId).map((r) => `${r.op}:${r.code}`);

  beforeAll(async () => {
    world = await createWorld();
    // Alice's account, opportunity and contact, written on the server by the CRM itself.
    await world.db.query(`INSERT INTO account (id, name, owner_login) VALUES ($1, 'Alice Corp', 'alice')`, [
      aliceAccount,
    ]);
    await world.db.query(
      `INSERT INTO opportunity (id, account_id, name, stage, amount, owner_login)
       VALUES ($1, $2, 'Fleet renewal', 'Qualification', 120000, 'alice')`,
      [aliceOpportunity, aliceAccount],
    );
    await world.db.query(`INSERT INTO contact (id, account_id, last_name) VALUES ($1, $2, 'Ng')`, [
      aliceContact,
      aliceAccount,
    ]);
    [alice, mallory, bob] = await Promise.all([
      world.laptop('alice-laptop', 'alice'),
      world.laptop('mallory-laptop', 'mallory'),
      world.laptop('bob-laptop', 'bob'),
    ]);
    await syncUntil(alice, 'SELECT name FROM opportunity', [{ name: 'Fleet renewal' }]);
  });
  afterAll(async () => {
    await world?.close();
  });

  it("refuses a rename of another user's account sent as an insert of its id, and takes the row from the laptop", async () => {
    const refused = await attempt(
      mallory,
      'mallory-laptop',
      `INSERT INTO account (id, name) VALUES ('${aliceAccount}', 'Mallory was here')`,
    );
    expect(refused).toBe(1);
    expect((await serverRow('account', aliceAccount))?.name).toBe('Alice Corp');
    expect(await refusalOf('mallory-laptop', aliceAccount)).toEqual([`insert:${RefusalCode.NotVisible}`]);
    const [refusal] = (await refusals('mallory-laptop')).filter((r) => r.rowId === aliceAccount);
    expect(refusal.reason).toMatch(/does not exist or is not shared with you/);
    expect(refusal.reason).not.toMatch(/Alice Corp|alice"/);
    await syncUntil(mallory, `SELECT id FROM account WHERE id = '${aliceAccount}'`, []);
  });

  it("refuses a forged insert followed by a delete of another user's opportunity", async () => {
    await exec(
      mallory,
      `INSERT INTO opportunity (id, account_id, name, stage, owner_login)
       VALUES ('${aliceOpportunity}', '${aliceAccount}', 'x', 'x', 'mallory')`,
    );
    const refused = await attempt(
      mallory,
      'mallory-laptop',
      `DELETE FROM opportunity WHERE id = '${aliceOpportunity}'`,
    );
    expect(refused).toBe(2);
    expect((await serverRow('opportunity', aliceOpportunity))?.name).toBe('Fleet renewal');
    expect(await refusalOf('mallory-laptop', aliceOpportunity)).toEqual([
      `delete:${RefusalCode.NotVisible}`,
      `insert:${RefusalCode.NotVisible}`,
    ]);
  });

  it('refuses joining the team of an opportunity the user cannot see, and nothing of it reaches the laptop', async () => {
    const team = randomUUID();
    const refused = await attempt(
      mallory,
      'mallory-laptop',
      `INSERT INTO opportunity_team (id, opportunity_id, user_login) VALUES ('${team}', '${aliceOpportunity}', 'mallory')`,
    );
    expect(refused).toBe(1);
    expect(await serverRow('opportunity_team', team)).toBeUndefined();
    expect(await refusalOf('mallory-laptop', team)).toEqual([`insert:${RefusalCode.GainsVisibility}`]);
    await syncUntil(mallory, 'SELECT id FROM opportunity_team', []);
    expect(await query(mallory, `SELECT id FROM opportunity WHERE id = '${aliceOpportunity}'`)).toEqual([]);
    expect(await query(mallory, `SELECT id FROM account WHERE id = '${aliceAccount}'`)).toEqual([]);
  });

  it("refuses a child row attached to another user's parent", async () => {
    const contact = randomUUID();
    const refused = await attempt(
      mallory,
      'mallory-laptop',
      `INSERT INTO contact (id, account_id, last_name) VALUES ('${contact}', '${aliceAccount}', 'Spy')`,
    );
    expect(refused).toBe(1);
    expect(await serverRow('contact', contact)).toBeUndefined();
    expect(await refusalOf('mallory-laptop', contact)).toEqual([`insert:${RefusalCode.InsertNotVisible}`]);
    await syncUntil(mallory, `SELECT id FROM contact WHERE id = '${contact}'`, []);
  });

  it("refuses an own opportunity that points at another user's account, which would reveal it", async () => {
    const opportunity = randomUUID();
    const refused = await attempt(
      mallory,
      'mallory-laptop',
      `INSERT INTO opportunity (id, account_id, name, stage, owner_login)
       VALUES ('${opportunity}', '${aliceAccount}', 'Mine', 'Prospecting', 'mallory')`,
    );
    expect(refused).toBe(1);
    expect(await serverRow('opportunity', opportunity)).toBeUndefined();
    expect(await refusalOf('mallory-laptop', opportunity)).toEqual([`insert:${RefusalCode.GainsVisibility}`]);
  });

  it("refuses a file that names another user, whole, and applies the laptop's next file", async () => {
    const secret = (
      await adminJson<{ secret: string }>(['clients', 'add', 'forger', '--user', 'mallory'], world.stack)
    ).secret;
    const forger = new RawLaptop(world.stack.gatewayUrl, 'forger', secret);
    const stolen = randomUUID();
    const own = randomUUID();
    const at = new Date().toISOString();
    expect(
      await forger.upload(1, [
        {
          seq: 1,
          at,
          user: 'alice',
          table: 'account',
          id: stolen,
          op: 'insert',
          row: { id: stolen, name: 'Forged', owner_login: 'alice' },
        },
      ]),
    ).toBe(201);
    expect(
      await forger.upload(2, [
        {
          seq: 2,
          at,
          user: 'mallory',
          table: 'account',
          id: own,
          op: 'insert',
          row: { id: own, name: 'Honest', owner_login: 'mallory' },
        },
      ]),
    ).toBe(201);
    await settled('forger');
    const files = await world.db.query(
      `SELECT file_seq, status, reason FROM sync_inbox_file WHERE client = 'forger' ORDER BY file_seq`,
    );
    expect(files.rows.map((r) => [r.file_seq, r.status])).toEqual([
      [1, 'refused'],
      [2, 'applied'],
    ]);
    expect(files.rows[0].reason).toMatch(/FORGED_USER: .*names user "alice".*registered for user "mallory"/);
    expect(await serverRow('account', stolen)).toBeUndefined();
    expect((await serverRow('account', own))?.name).toBe('Honest');
    expect(await refusalOf('forger', stolen)).toEqual([`insert:${RefusalCode.ForgedUser}`]);
  });

  it('lets an opportunity be handed to a colleague, which takes it from the laptop and gives it to the colleague', async () => {
    const opportunity = randomUUID();
    await world.db.query(
      `INSERT INTO opportunity (id, account_id, name, stage, owner_login) VALUES ($1, $2, 'Hand-off', 'Proposal', 'alice')`,
      [opportunity, aliceAccount],
    );
    await syncUntil(alice, `SELECT name FROM opportunity WHERE id = '${opportunity}'`, [
      { name: 'Hand-off' },
    ]);
    await exec(alice, `UPDATE opportunity SET owner_login = 'bob' WHERE id = '${opportunity}'`);
    await sync(alice);
    await settled('alice-laptop');
    expect((await serverRow('opportunity', opportunity))?.owner_login).toBe('bob');
    expect(await refusalOf('alice-laptop', opportunity)).toEqual([]);
    await syncUntil(bob, `SELECT name FROM opportunity WHERE id = '${opportunity}'`, [{ name: 'Hand-off' }]);
    await syncUntil(alice, `SELECT name FROM opportunity WHERE id = '${opportunity}'`, []);
  });

  it("refuses moving a row out of the user's own visibility where its table does not allow it", async () => {
    const elsewhere = randomUUID();
    await world.db.query(`INSERT INTO account (id, name, owner_login) VALUES ($1, 'Elsewhere', 'carol')`, [
      elsewhere,
    ]);
    await syncUntil(alice, `SELECT last_name FROM contact WHERE id = '${aliceContact}'`, [
      { last_name: 'Ng' },
    ]);
    const refused = await attempt(
      alice,
      'alice-laptop',
      `UPDATE contact SET account_id = '${elsewhere}', last_name = 'Moved' WHERE id = '${aliceContact}'`,
    );
    expect(refused).toBe(1);
    expect(await serverRow('contact', aliceContact)).toMatchObject({
      account_id: aliceAccount,
      last_name: 'Ng',
    });
    expect(await refusalOf('alice-laptop', aliceContact)).toEqual([
      `update:${RefusalCode.HandOffNotAllowed}`,
    ]);
    await syncUntil(alice, `SELECT account_id, last_name FROM contact WHERE id = '${aliceContact}'`, [
      { account_id: aliceAccount, last_name: 'Ng' },
    ]);
  });

  it('shows a laptop its duplicate-key conflict without the id of the row it cannot see; the administrator sees it', async () => {
    const copy = randomUUID();
    const refused = await attempt(
      mallory,
      'mallory-laptop',
      `INSERT INTO account (id, name, owner_login) VALUES ('${copy}', 'Alice Corp', 'mallory')`,
    );
    expect(refused).toBe(0);
    expect((await serverRow('account', copy))?.sync_conflict_of).toBe(aliceAccount);
    const laptopView = (await agentJson<{ conflicts: ConflictView[] }>(['status', '--dir', mallory]))
      .conflicts;
    const mine = laptopView.find((c) => c.rowId === copy);
    expect(mine?.kind).toBe('duplicate-key');
    expect(mine?.serverValue).toEqual({ id: null, name: 'Alice Corp' });
    expect(JSON.stringify(laptopView)).not.toContain(aliceAccount);
    const adminView = await adminJson<ConflictView[]>(
      ['conflicts', 'list', '--client', 'mallory-laptop'],
      world.stack,
    );
    expect(adminView.find((c) => c.rowId === copy)?.serverValue).toEqual({
      id: aliceAccount,
      name: 'Alice Corp',
    });
    // The row comes back marked, naming itself rather than the account mallory may not see.
    await syncUntil(mallory, `SELECT sync_conflict_of FROM account WHERE id = '${copy}'`, [
      { sync_conflict_of: copy },
    ]);
  });

  it('applies an honest new account with its contact and opportunity in one upload', async () => {
    const account = randomUUID();
    const opportunity = randomUUID();
    await exec(
      mallory,
      `INSERT INTO account (id, name, owner_login) VALUES ('${account}', 'Mallory Ltd', NULL)`,
    );
    await exec(mallory, `INSERT INTO contact (account_id, last_name) VALUES ('${account}', 'Doe')`);
    const refused = await attempt(
      mallory,
      'mallory-laptop',
      `INSERT INTO opportunity (id, account_id, name, stage, owner_login)
       VALUES ('${opportunity}', '${account}', 'First deal', 'Prospecting', 'mallory')`,
    );
    expect(refused).toBe(0);
    expect((await serverRow('opportunity', opportunity))?.name).toBe('First deal');
    expect(
      (await world.db.query('SELECT count(*)::int AS n FROM contact WHERE account_id = $1', [account]))
        .rows[0].n,
    ).toBe(1);
    // Nothing mallory tried reached alice's rows, and alice's own laptop was never held up.
    expect(await query(alice, `SELECT name FROM account WHERE id = '${aliceAccount}'`)).toEqual([
      { name: 'Alice Corp' },
    ]);
  });
});
