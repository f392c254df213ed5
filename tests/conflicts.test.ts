import { ApplierEnv, txn, uuid, type TxnFields } from './support/applier-env';

jest.setTimeout(120_000);

/**
 * Conflict rules of the sales schema (its tables keep the default policies: server-wins and
 * delete-wins; client-wins, latest-wins and resurrect are covered by the resolver's unit spec)
 * with files from two laptops touching the same rows.
 */
describe('applier conflict resolution', () => {
  const env = new ApplierEnv();
  const next = { A: 0, B: 0 } as Record<string, number>;
  const seq = { A: 0, B: 0 } as Record<string, number>;
  const client = (who: 'A' | 'B') => (who === 'A' ? 'laptop-a' : 'laptop-b');
  const user = (who: 'A' | 'B') => (who === 'A' ? 'alice' : 'bob');

  beforeAll(async () => {
    await env.open();
    await env.startRouter();
    await env.startApplier();
    await env.addClient('laptop-a', 'alice');
    await env.addClient('laptop-b', 'bob');
  });
  afterAll(() => env.close());

  /** Uploads one file of `who` with the given transactions and waits until it is applied. */
  async function upload(
    who: 'A' | 'B',
    ...txs: Array<['insert' | 'update' | 'delete', TxnFields]>
  ): Promise<number> {
    next[who] += 1;
    const list = txs.map(([op, body]) => txn((seq[who] += 1), op, { user: user(who), ...body }));
    await env.putFile(client(who), next[who], list);
    await env.publishReceived(client(who), next[who]);
    await env.waitApplied(client(who), next[who]);
    return next[who];
  }

  async function newOpportunity(): Promise<string> {
    const id = uuid();
    await env.db.query(
      `INSERT INTO opportunity (id, account_id, name, stage, amount, owner_login) VALUES ($1, $2, 'Deal', 'Prospect', 100.00, 'alice')`,
      [id, uuid()],
    );
    // Bob is on its team: both laptops may change it.
    await env.db.query(
      `INSERT INTO opportunity_team (id, opportunity_id, user_login) VALUES ($1, $2, 'bob')`,
      [uuid(), id],
    );
    return id;
  }
  const opportunity = async (id: string) =>
    (
      await env.db.query(`SELECT stage, amount, name, row_version::int AS v FROM opportunity WHERE id = $1`, [
        id,
      ])
    ).rows[0];
  const conflictsOf = async (rowId: string) =>
    (
      await env.db.query(
        `SELECT kind, column_name, server_value, client_value, server_origin, client_origin, policy, winner, client_file_seq FROM sync_conflict WHERE row_id = $1 ORDER BY at, column_name`,
        [rowId],
      )
    ).rows;
  const echoes = async (rowId: string) => {
    await env.waitCaptured();
    return (
      await env.db.query(
        `SELECT op, origin_client FROM sync_txn_log WHERE row_id = $1 AND echo ORDER BY seq`,
        [rowId],
      )
    ).rows;
  };

  it('update vs update: the same column keeps the server value (server-wins), other columns merge', async () => {
    const id = await newOpportunity();
    await upload('A', [
      'update',
      { table: 'opportunity', id, base: 1, changes: { stage: { old: 'Prospect', new: 'Won' } } },
    ]);
    const fileB = await upload('B', [
      'update',
      {
        table: 'opportunity',
        id,
        base: 1,
        changes: {
          stage: { old: 'Prospect', new: 'Lost' },
          amount: { old: { $dec: '100' }, new: { $dec: '250.50' } },
        },
      },
    ]);
    expect(await opportunity(id)).toEqual({ stage: 'Won', amount: '250.50', name: 'Deal', v: 3 });
    expect(await conflictsOf(id)).toEqual([
      {
        kind: 'update-update',
        column_name: 'stage',
        server_value: 'Won',
        client_value: 'Lost',
        server_origin: 'laptop-a',
        client_origin: 'laptop-b',
        policy: 'server-wins',
        winner: 'server',
        client_file_seq: fileB,
      },
    ]);
    expect(await echoes(id)).toEqual([{ op: 'update', origin_client: 'laptop-b' }]);
    // The confirm of B's file precedes its echo, so the agent drops its log entry before it takes the resolution.
    const order = await env.db.query(
      `SELECT op FROM sync_txn_log WHERE origin_client = 'laptop-b' AND (op = 'confirm' AND origin_txn_seq = $1 OR row_id = $2 AND echo) ORDER BY seq`,
      [seq.B, id],
    );
    expect(order.rows.map((r) => r.op)).toEqual(['confirm', 'update']);
  });

  it('an update whose old value still matches is no conflict, even with a stale base', async () => {
    const id = await newOpportunity();
    await upload('A', [
      'update',
      { table: 'opportunity', id, base: 1, changes: { name: { old: 'Deal', new: 'Renamed' } } },
    ]);
    await upload('B', [
      'update',
      { table: 'opportunity', id, base: 1, changes: { stage: { old: 'Prospect', new: 'Qualify' } } },
    ]);
    expect(await opportunity(id)).toMatchObject({ stage: 'Qualify', name: 'Renamed', v: 3 });
    expect(await conflictsOf(id)).toEqual([]);
    expect(await echoes(id)).toEqual([]);
  });

  it('update vs delete: the delete wins, the update is recorded and the row is echoed as deleted', async () => {
    const id = await newOpportunity();
    await upload('A', ['delete', { table: 'opportunity', id, base: 1 }]);
    const fileB = await upload('B', [
      'update',
      { table: 'opportunity', id, base: 1, changes: { stage: { old: 'Prospect', new: 'Won' } } },
    ]);
    expect(await opportunity(id)).toBeUndefined();
    expect(await conflictsOf(id)).toEqual([
      expect.objectContaining({
        kind: 'update-delete',
        column_name: null,
        server_value: null,
        client_value: { stage: 'Won' },
        server_origin: 'laptop-a',
        client_origin: 'laptop-b',
        policy: 'delete-wins',
        winner: 'server',
        client_file_seq: fileB,
      }),
    ]);
    expect(await echoes(id)).toEqual([{ op: 'delete', origin_client: 'laptop-b' }]);
  });

  it("client delete vs server update: the delete wins and the server's values are kept in the record", async () => {
    const id = await newOpportunity();
    await upload('B', [
      'update',
      {
        table: 'opportunity',
        id,
        base: 1,
        changes: { amount: { old: { $dec: '100.00' }, new: { $dec: '900.00' } } },
      },
    ]);
    await upload('A', ['delete', { table: 'opportunity', id, base: 1 }]);
    expect(await opportunity(id)).toBeUndefined();
    const [record] = await conflictsOf(id);
    expect(record).toMatchObject({
      kind: 'update-delete',
      client_origin: 'laptop-a',
      server_origin: 'laptop-b',
      policy: 'delete-wins',
      winner: 'client',
      client_value: null,
    });
    expect(record.server_value).toMatchObject({ id, stage: 'Prospect', amount: { $dec: '900.00' } });
  });

  it('a delete after only its own updates is no conflict', async () => {
    const id = await newOpportunity();
    await upload('A', [
      'update',
      { table: 'opportunity', id, base: 1, changes: { stage: { old: 'Prospect', new: 'Won' } } },
    ]);
    await upload('A', ['delete', { table: 'opportunity', id, base: 1 }]);
    expect(await opportunity(id)).toBeUndefined();
    expect(await conflictsOf(id)).toEqual([]);
  });

  it('insert with a duplicate business key: both rows kept, the incoming one marked and echoed', async () => {
    const first = uuid();
    const second = uuid();
    await upload('A', [
      'insert',
      { table: 'account', id: first, row: { id: first, name: 'Acme Corp', owner_login: 'alice' } },
    ]);
    const fileB = await upload('B', [
      'insert',
      { table: 'account', id: second, row: { id: second, name: 'Acme Corp', owner_login: 'bob' } },
    ]);
    const rows = await env.db.query(
      `SELECT id, sync_conflict_of FROM account WHERE name = 'Acme Corp' ORDER BY sync_conflict_of NULLS FIRST`,
    );
    expect(rows.rows).toEqual([
      { id: first, sync_conflict_of: null },
      { id: second, sync_conflict_of: first },
    ]);
    expect(await conflictsOf(second)).toEqual([
      expect.objectContaining({
        kind: 'duplicate-key',
        column_name: 'name',
        server_value: { id: first, name: 'Acme Corp' },
        client_value: { id: second, name: 'Acme Corp' },
        client_origin: 'laptop-b',
        winner: 'server',
        client_file_seq: fileB,
      }),
    ]);
    expect(await echoes(second)).toEqual([{ op: 'update', origin_client: 'laptop-b' }]);
  });

  it('moves a business key from one row to another within one file without a conflict', async () => {
    const old = uuid();
    const fresh = uuid();
    await upload('A', [
      'insert',
      { table: 'account', id: old, row: { id: old, name: 'Contoso', owner_login: 'alice' } },
    ]);
    await upload(
      'A',
      ['insert', { table: 'account', id: fresh, row: { id: fresh, name: 'Contoso', owner_login: 'alice' } }],
      [
        'update',
        { table: 'account', id: old, base: 1, changes: { name: { old: 'Contoso', new: 'Contoso (old)' } } },
      ],
    );
    const rows = await env.db.query(
      `SELECT id::text, name, sync_conflict_of FROM account WHERE id = ANY($1::uuid[]) ORDER BY name`,
      [[old, fresh]],
    );
    expect(rows.rows).toEqual([
      { id: fresh, name: 'Contoso', sync_conflict_of: null },
      { id: old, name: 'Contoso (old)', sync_conflict_of: null },
    ]);
  });

  it('renaming onto a taken business key marks the renamed row instead of failing the file', async () => {
    const taken = uuid();
    const mine = uuid();
    await upload('A', [
      'insert',
      { table: 'account', id: taken, row: { id: taken, name: 'Globex', owner_login: 'alice' } },
    ]);
    await upload(
      'B',
      ['insert', { table: 'account', id: mine, row: { id: mine, name: 'Initech', owner_login: 'bob' } }],
      [
        'update',
        { table: 'account', id: mine, base: null, changes: { name: { old: 'Initech', new: 'Globex' } } },
      ],
    );
    const row = await env.db.query(`SELECT name, sync_conflict_of FROM account WHERE id = $1`, [mine]);
    expect(row.rows[0]).toEqual({ name: 'Globex', sync_conflict_of: taken });
  });

  it('insert of an id the server already holds: each differing column is an update conflict (server-wins)', async () => {
    const id = uuid();
    const acc = uuid();
    const row = {
      id,
      account_id: acc,
      name: 'Copy',
      stage: 'Prospect',
      amount: null,
      close_date: null,
      owner_login: 'alice',
    };
    await upload('A', ['insert', { table: 'opportunity', id, row }]);
    await env.db.query(
      `INSERT INTO opportunity_team (id, opportunity_id, user_login) VALUES ($1, $2, 'bob')`,
      [uuid(), id],
    );
    await upload('B', ['insert', { table: 'opportunity', id, row: { ...row, stage: 'Won' } }]);
    expect(await opportunity(id)).toMatchObject({ stage: 'Prospect', v: 1 });
    expect(await conflictsOf(id)).toEqual([
      expect.objectContaining({
        kind: 'update-update',
        column_name: 'stage',
        server_value: 'Prospect',
        client_value: 'Won',
        winner: 'server',
        server_origin: 'laptop-a',
      }),
    ]);
    expect(await echoes(id)).toEqual([{ op: 'update', origin_client: 'laptop-b' }]);
  });
});
