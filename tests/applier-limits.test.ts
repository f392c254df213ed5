import { randomBytes } from 'node:crypto';
import { ApplierEnv, txn, uuid, type ApplierProcess } from './support/applier-env';

/**
 * Memory bounded by bytes: a file of large rows is applied in chunks of APPLY_CHUNK_BYTES rather
 * than APPLY_CHUNK_TXNS rows, and a file with a line over APPLY_MAX_LINE_BYTES is quarantined
 * with a reason that says so, while the other clients' files apply. Build first.
 */
jest.setTimeout(120_000);

describe('applier limits by bytes', () => {
  const env = new ApplierEnv();
  let applier: ApplierProcess;

  beforeAll(async () => {
    await env.open();
    applier = await env.startApplier({
      APPLY_CHUNK_BYTES: String(64 * 1024),
      APPLY_CHUNK_TXNS: '5000',
      APPLY_MAX_LINE_BYTES: String(256 * 1024),
    });
    await env.addClient('big-rows', 'alice');
    await env.addClient('huge-line', 'bob');
  });
  afterAll(async () => {
    await applier?.stop();
    await env.close();
  });

  const contact = (seq: number, account: string, bytes: number, user = 'alice') => {
    const id = uuid();
    return txn(seq, 'insert', {
      table: 'contact',
      id,
      user,
      // Random text does not compress: the line is as long on the wire as in memory.
      row: {
        id,
        account_id: account,
        first_name: randomBytes(bytes).toString('base64'),
        last_name: 'Big',
        email: null,
      },
    });
  };

  const chunksWritten = async (): Promise<number> => {
    const text = await (await fetch(env.applierMetricsUrl)).text();
    const line = /^outpost_apply_chunks_total(?:\{[^}]*\})? (\d+)/m.exec(text);
    return line ? Number(line[1]) : 0;
  };

  it('applies many large rows in byte-bounded chunks', async () => {
    const account = uuid();
    const txs = [
      txn(1, 'insert', {
        table: 'account',
        id: account,
        row: { id: account, name: 'Big rows Ltd', owner_login: 'alice' },
      }),
      ...Array.from({ length: 30 }, (_, i) => contact(i + 2, account, 48 * 1024)),
    ];
    const chunksBefore = await chunksWritten();
    await env.putFile('big-rows', 1, txs);
    await env.publishReceived('big-rows', 1);
    await env.waitApplied('big-rows', 1);
    // 31 transactions are far below APPLY_CHUNK_TXNS: only the byte bound can split the file.
    // About 2 MB of lines in chunks of 64 KiB (checked between the reader's batches).
    expect((await chunksWritten()) - chunksBefore).toBeGreaterThanOrEqual(4);
    const rows = await env.db.query(`SELECT count(*)::int AS n FROM contact WHERE account_id = $1`, [
      account,
    ]);
    expect(rows.rows[0].n).toBe(30);
  });

  it('quarantines a file with a line over the limit, and others apply', async () => {
    const account = uuid();
    await env.putFile('huge-line', 1, [contact(1, account, 400 * 1024, 'bob')]);
    await env.putFile('big-rows', 2, [
      txn(32, 'insert', {
        table: 'account',
        id: account,
        row: { id: account, name: 'Later Ltd', owner_login: 'alice' },
      }),
    ]);
    await env.publishReceived('huge-line', 1);
    await env.publishReceived('big-rows', 2);
    await env.waitApplied('big-rows', 2);
    expect((await env.db.query(`SELECT 1 FROM account WHERE id = $1`, [account])).rowCount).toBe(1);
    const file = await env.inboxFile('huge-line', 1);
    expect(file).toMatchObject({ status: 'quarantined' });
    expect(String(file?.reason)).toMatch(/DX_INVALID/);
    expect(String(file?.reason)).toMatch(/LINE_TOO_LONG|longer than/i);
  });
});
