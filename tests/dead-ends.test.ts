/**
 * Every dead end of the upload path has a way out, each walked by a laptop here:
 * - a file that fails the same way again and again (here Postgres error 54000, a business key too
 *   long for its index: neither a data exception nor a constraint) is quarantined after
 *   APPLY_MAX_ATTEMPTS tries, while other clients keep applying;
 * - `sync-admin inbox reject` skips it: the client's later files apply, the laptop's rows come
 *   back to the server's state and nothing of it stays pending;
 * - `sync-agent status` says in words what the laptop waits for and what the administrator can do;
 * - a laptop set up again in a new folder for the same client continues from the server's position.
 */
import { randomBytes } from 'node:crypto';
import { waitFor } from '@outpost/test-support';
import { admin, adminJson, agent, agentJson } from './support/cli';
import { exec, query, sync, type Rows } from './support/laptops';
import { createWorld, type World } from './support/world';

interface InboxView {
  fileSeq: number;
  status: string;
  waiting: boolean;
  reason: string | null;
  rejection: string | null;
}
interface Status {
  pendingTransactions: number;
  outboxFiles: number;
  awaitingConfirmation: number;
  waitingFor: string[];
  rejected: string[];
}

const MAX_ATTEMPTS = 3;

describe('dead ends', () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld({
      env: { APPLY_MAX_ATTEMPTS: String(MAX_ATTEMPTS), APPLY_RETRY_MAX_MS: '400' },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  const inbox = (client: string) => adminJson<InboxView[]>(['inbox', client], world.stack);
  const status = (dir: string) => agentJson<Status>(['status', '--dir', dir]);
  const serverAccounts = async (owner: string): Promise<Rows> =>
    (
      await world.db.query(`SELECT id::text AS id, name FROM account WHERE owner_login = $1 ORDER BY id`, [
        owner,
      ])
    ).rows as Rows;
  const localAccounts = (dir: string) => query(dir, 'SELECT id, name FROM account ORDER BY id');

  /**
   * Syncs until the laptop holds exactly the server's rows for its user and waits for nothing: the
   * confirmation of its last upload is routed after the upload applies, so it may take another sync.
   */
  async function converge(dir: string, owner: string): Promise<Rows> {
    return waitFor(
      async () => {
        await sync(dir);
        const [local, server] = await Promise.all([localAccounts(dir), serverAccounts(owner)]);
        if (JSON.stringify(local) !== JSON.stringify(server)) return undefined;
        return (await status(dir)).waitingFor.length === 0 ? local : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 300, description: `${dir} to hold the server's accounts of ${owner}` },
    );
  }

  it('quarantines a file failing the same way, lets others apply, and a rejection walks the laptop out', async () => {
    const ana = await world.laptop('ana-laptop', 'ana');
    const bob = await world.laptop('bob-laptop', 'bob');
    await exec(ana, `INSERT INTO account (name, owner_login) VALUES ('Acme', 'ana')`);
    await sync(ana);
    await world.applied('ana-laptop', 1);

    // File 2: a rename that is fine, and an account whose name no btree index can hold (random, so
    // it does not compress below the index row limit): Postgres refuses it with 54000 every time.
    const huge = randomBytes(9000).toString('base64');
    await exec(ana, `UPDATE account SET name = 'Acme Renamed' WHERE name = 'Acme'`);
    await exec(ana, `INSERT INTO account (name, owner_login) VALUES ('${huge}', 'ana')`);
    await sync(ana);
    // Bob's file applies while ana's is being retried.
    await exec(bob, `INSERT INTO account (name, owner_login) VALUES ('Bob Co', 'bob')`);
    await sync(bob);
    await world.applied('bob-laptop', 1);

    const quarantined = await waitFor(
      async () => {
        const files = await inbox('ana-laptop');
        return files[1]?.status === 'quarantined' ? files[1] : undefined;
      },
      { timeoutMs: 60_000, description: 'ana-laptop file 2 quarantined after repeated failures' },
    );
    expect(quarantined.reason).toMatch(/REPEATED_FAILURE/);
    expect(quarantined.reason).toMatch(new RegExp(`failed ${MAX_ATTEMPTS} times`));
    expect(quarantined.reason).toMatch(/54000/);
    const attempts = await world.db.query(
      `SELECT attempts FROM sync_inbox_file WHERE client = 'ana-laptop' AND file_seq = 2`,
    );
    expect(attempts.rows[0].attempts).toBe(MAX_ATTEMPTS);

    // A later change waits behind it; the laptop says so, and what the administrator can do.
    await exec(ana, `INSERT INTO account (name, owner_login) VALUES ('Later Ltd', 'ana')`);
    await sync(ana);
    const waiting = await status(ana);
    expect(waiting.waitingFor.join('\n')).toMatch(
      /file 2 is quarantined on the server: REPEATED_FAILURE.*ask your administrator to retry it.*or to reject it/,
    );
    expect(waiting.waitingFor.join('\n')).toMatch(/file 3 waits on the server behind file 2/);
    const human = await agent(['status', '--dir', ana]);
    expect(human.stdout).toMatch(/waiting for/);
    expect(human.stdout).toMatch(/sync-admin inbox reject ana-laptop 2/);
    expect((await inbox('ana-laptop'))[2]).toMatchObject({ fileSeq: 3, status: 'received', waiting: true });

    const refusal = await admin(['inbox', 'reject', 'ana-laptop', '2'], world.stack);
    expect(refusal.code).not.toBe(0);
    expect(refusal.stderr).toMatch(/--reason/);
    const rejected = await admin(
      ['inbox', 'reject', 'ana-laptop', '2', '--reason', 'account name too long for the index'],
      world.stack,
    );
    expect(rejected.code).toBe(0);
    expect(rejected.stdout).toMatch(/File 2 of ana-laptop is rejected/);

    await world.applied('ana-laptop', 3);
    const after = await inbox('ana-laptop');
    expect(after[1]).toMatchObject({
      status: 'rejected',
      rejection: 'account name too long for the index',
    });
    expect(after[1].reason).toMatch(/54000/);
    const position = await world.db.query(
      `SELECT p.file_seq, p.txn_seq, f.last_seq FROM sync_apply_position p
         JOIN sync_inbox_file f ON f.client = p.client AND f.file_seq = 3 WHERE p.client = 'ana-laptop'`,
    );
    expect(position.rows[0].file_seq).toBe(3);
    expect(position.rows[0].txn_seq).toBe(position.rows[0].last_seq);
    // The file's changes are refused: the old name stands, the huge account never existed.
    expect((await serverAccounts('ana')).map((r) => r.name).sort()).toEqual(['Acme', 'Later Ltd']);

    const local = await converge(ana, 'ana');
    expect(local.map((r) => r.name).sort()).toEqual(['Acme', 'Later Ltd']);
    const done = await status(ana);
    expect(done).toMatchObject({ pendingTransactions: 0, outboxFiles: 0, awaitingConfirmation: 0 });
    expect(done.waitingFor).toEqual([]);
    expect(done.rejected.join('\n')).toMatch(/file 2 was rejected by your administrator/);
    expect((await agent(['status', '--dir', ana])).stdout).toMatch(/waiting for\s+nothing/);
    expect(await query(bob, `SELECT name FROM account`)).toEqual([{ name: 'Bob Co' }]);
  });

  it('a laptop set up again for an existing client continues from the server position', async () => {
    const secret = await world.register('cleo-laptop', 'cleo');
    const init = (dir: string) =>
      agentJson([
        'init',
        '--dir',
        dir,
        '--server',
        world.stack.gatewayUrl,
        '--client',
        'cleo-laptop',
        '--secret',
        secret,
      ]);
    const first = world.laptopDir('cleo-first');
    await init(first);
    await exec(first, `INSERT INTO account (name, owner_login) VALUES ('Cleo One', 'cleo')`);
    await sync(first);
    await exec(first, `INSERT INTO account (name, owner_login) VALUES ('Cleo Two', 'cleo')`);
    await sync(first);
    await world.applied('cleo-laptop', 2);
    // The first laptop acknowledges everything routed to it, so its extract is no longer pending.
    await converge(first, 'cleo');

    // The laptop is replaced: a new folder, the same client. It gets a fresh extract and its
    // changes continue after the server's files and transaction seqs.
    const second = world.laptopDir('cleo-second');
    await init(second);
    expect((await localAccounts(second)).map((r) => r.name).sort()).toEqual(['Cleo One', 'Cleo Two']);
    await exec(second, `INSERT INTO account (name, owner_login) VALUES ('Cleo Three', 'cleo')`);
    await sync(second);
    await world.applied('cleo-laptop', 3);
    const local = await converge(second, 'cleo');
    expect(local.map((r) => r.name).sort()).toEqual(['Cleo One', 'Cleo Three', 'Cleo Two']);
    const files = await world.db.query(
      `SELECT file_seq, first_seq, last_seq, status FROM sync_inbox_file WHERE client = 'cleo-laptop' ORDER BY file_seq`,
    );
    expect(files.rows.map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
    expect(files.rows[2].first_seq).toBe(files.rows[1].last_seq + 1);
    expect((await status(second)).waitingFor).toEqual([]);
  });

  it('a laptop set up again while offline renumbers the changes it made before its first sync', async () => {
    const secret = await world.register('dina-laptop', 'dina');
    const args = (dir: string) => [
      '--dir',
      dir,
      '--server',
      world.stack.gatewayUrl,
      '--client',
      'dina-laptop',
    ];
    const first = world.laptopDir('dina-first');
    await agentJson(['init', ...args(first), '--secret', secret]);
    await exec(first, `INSERT INTO account (name, owner_login) VALUES ('Dina One', 'dina')`);
    await sync(first);
    await world.applied('dina-laptop', 1);

    const second = world.laptopDir('dina-second');
    await agentJson(['init', ...args(second), '--secret', secret, '--no-extract']);
    await exec(second, `INSERT INTO account (name, owner_login) VALUES ('Dina Offline', 'dina')`);
    await agentJson(['extract', '--dir', second]);
    const result = await agent(['sync', '--dir', second, '--json']);
    expect(result.stderr).not.toMatch(/FILE_SEQ_TAKEN/);
    expect(result.code).toBe(0);
    await world.applied('dina-laptop', 2);
    const local = await converge(second, 'dina');
    expect(local.map((r) => r.name).sort()).toEqual(['Dina Offline', 'Dina One']);
  });
});
