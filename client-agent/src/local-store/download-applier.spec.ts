import * as path from 'node:path';
import { DxHeader, DxTransaction, readDxFile, uploadHeaderFor, writeDxFile } from '@outpost/dx-format';
import { agentPaths } from '../config/agent-config';
import { Outbox } from '../outbox/outbox';
import { ACCOUNT_A, ACCOUNT_B, ACCOUNT_C, makeClientFolder } from '../testing/fixtures';
import { DownloadApplier } from './download-applier';
import { LogRepository } from './log.repository';
import { runStatement } from './sql';

const AT = '2025-01-01T00:00:00.000Z';
const upsert = (
  seq: number,
  id: string,
  name: string,
  version: number,
  owner: string | null = null,
): DxTransaction => ({
  seq,
  at: AT,
  user: 'server',
  table: 'account',
  id,
  op: 'upsert',
  version,
  row: { id, name, owner_login: owner, updated_at: { $ts: AT }, sync_conflict_of: null },
});
const confirm = (seq: number, upTo: number): DxTransaction => ({
  seq,
  at: AT,
  user: '',
  table: '',
  id: '',
  op: 'confirm',
  upTo,
});

describe('download apply', () => {
  let folder: ReturnType<typeof makeClientFolder>;
  let fileNo = 0;
  beforeEach(() => (folder = makeClientFolder()));
  afterEach(() => folder.cleanup());

  const headerOf = (
    fileSeq: number,
    txs: DxTransaction[],
    opts: { kind?: 'changes' | 'extract'; epoch?: number },
  ): DxHeader =>
    uploadHeaderFor('laptop-1', fileSeq, txs, {
      direction: 'download',
      createdAt: AT,
      kind: opts.kind ?? 'changes',
      epoch: opts.epoch ?? 1,
    });

  async function apply(
    fileSeq: number,
    txs: DxTransaction[],
    opts: { kind?: 'changes' | 'extract'; epoch?: number } = {},
  ) {
    const header = headerOf(fileSeq, txs, opts);
    const file = path.join(folder.cfg.dir, `download-${++fileNo}.dx`);
    await writeDxFile(file, header, txs);
    const reader = readDxFile(file);
    return new DownloadApplier(folder.store).apply(await reader.header(), reader.batches(), header.epoch!);
  }
  const accounts = () =>
    folder.store.db.prepare('SELECT id, name, owner_login, row_version FROM account ORDER BY name').all() as {
      id: string;
      name: string;
      owner_login: string | null;
      row_version: number | null;
    }[];
  const log = () => new LogRepository(folder.store);
  const extractLocal = () => new Outbox(folder.store, agentPaths(folder.cfg.dir), 'laptop-1').extract();

  it('upserts full rows with their version, deletes and evicts, without logging anything', async () => {
    await apply(1, [
      upsert(10, ACCOUNT_A, 'Acme', 3),
      upsert(11, ACCOUNT_B, 'Globex', 4),
      upsert(12, ACCOUNT_A, 'Acme Inc', 5),
    ]);
    expect(accounts()).toEqual([
      { id: ACCOUNT_A, name: 'Acme Inc', owner_login: null, row_version: 5 },
      { id: ACCOUNT_B, name: 'Globex', owner_login: null, row_version: 4 },
    ]);
    await apply(2, [
      { seq: 13, at: AT, user: 'server', table: 'account', id: ACCOUNT_A, op: 'delete', base: null },
      { seq: 14, at: AT, user: 'server', table: 'account', id: ACCOUNT_B, op: 'evict' },
    ]);
    expect(accounts()).toEqual([]);
    expect(log().unconfirmedEntries()).toEqual([]);
    expect(new DownloadApplier(folder.store).position()).toEqual({ epoch: 1, fileSeq: 2 });
  });

  it('skips a file applied before and starts over in a new epoch', async () => {
    expect((await apply(1, [upsert(10, ACCOUNT_A, 'Acme', 1)])).applied).toBe(true);
    runStatement(folder.store, `DELETE FROM account`);
    expect(await apply(1, [upsert(10, ACCOUNT_A, 'Acme', 1)])).toEqual({ applied: false, txns: 0 });
    expect(accounts()).toEqual([]);
    expect((await apply(1, [upsert(10, ACCOUNT_B, 'Globex', 1)], { epoch: 2 })).applied).toBe(true);
    expect(accounts().map((a) => a.name)).toEqual(['Globex']);
  });

  it('removes confirmed local changes and keeps the later ones pending', async () => {
    runStatement(folder.store, `INSERT INTO account(id, name) VALUES ('${ACCOUNT_A}', 'Local one')`);
    runStatement(folder.store, `INSERT INTO account(id, name) VALUES ('${ACCOUNT_B}', 'Local two')`);
    await extractLocal();
    runStatement(folder.store, `INSERT INTO account(id, name) VALUES ('${ACCOUNT_C}', 'Local three')`);
    await apply(1, [confirm(20, 1)]);
    expect(
      log()
        .unconfirmedEntries()
        .map((e) => e.seq),
    ).toEqual([2, 3]);
    // A confirm never covers a change that was not put in a file yet.
    await apply(2, [confirm(21, 3)]);
    expect(
      log()
        .unconfirmedEntries()
        .map((e) => e.seq),
    ).toEqual([3]);
  });

  it('rebases pending local changes on top of a server row', async () => {
    await apply(1, [upsert(10, ACCOUNT_A, 'Acme', 1, 'bob'), upsert(11, ACCOUNT_B, 'Globex', 1)]);
    runStatement(folder.store, `UPDATE account SET name = 'Acme (edited offline)' WHERE id = '${ACCOUNT_A}'`);
    runStatement(folder.store, `DELETE FROM account WHERE id = '${ACCOUNT_B}'`);
    runStatement(folder.store, `INSERT INTO account(id, name) VALUES ('${ACCOUNT_C}', 'New offline')`);
    await apply(2, [
      upsert(12, ACCOUNT_A, 'Acme Server', 2, 'carol'),
      upsert(13, ACCOUNT_B, 'Globex Server', 2),
      { seq: 14, at: AT, user: 'server', table: 'account', id: ACCOUNT_C, op: 'delete', base: null },
    ]);
    expect(accounts()).toEqual([
      // the offline edit wins locally, the server's other column lands, the version is the server's
      { id: ACCOUNT_A, name: 'Acme (edited offline)', owner_login: 'carol', row_version: 2 },
      { id: ACCOUNT_C, name: 'New offline', owner_login: null, row_version: null },
    ]);
    expect(
      log()
        .unconfirmedEntries()
        .map((e) => e.op),
    ).toEqual(['update', 'delete', 'insert']);
  });

  it('replaces local data with an extract, then replays unconfirmed local changes', async () => {
    await apply(1, [upsert(10, ACCOUNT_A, 'Old', 1), upsert(11, ACCOUNT_B, 'Gone', 1)]);
    runStatement(folder.store, `INSERT INTO account(id, name) VALUES ('${ACCOUNT_C}', 'Sent and applied')`);
    await extractLocal();
    runStatement(folder.store, `UPDATE account SET name = 'Offline edit' WHERE id = '${ACCOUNT_A}'`);
    await apply(
      1,
      [confirm(1, 1), upsert(50, ACCOUNT_A, 'Snapshot A', 7), upsert(51, ACCOUNT_C, 'Sent and applied', 8)],
      { kind: 'extract', epoch: 2 },
    );
    expect(accounts()).toEqual([
      { id: ACCOUNT_A, name: 'Offline edit', owner_login: null, row_version: 7 },
      { id: ACCOUNT_C, name: 'Sent and applied', owner_login: null, row_version: 8 },
    ]);
    expect(
      log()
        .unconfirmedEntries()
        .map((e) => e.op),
    ).toEqual(['update']);
    expect(new DownloadApplier(folder.store).position()).toEqual({ epoch: 2, fileSeq: 1 });
  });

  const indexes = () =>
    folder.store.db
      .prepare(`SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name`)
      .all();

  it('builds the secondary indexes again after an extract, and keeps them when it fails', async () => {
    const before = indexes();
    expect(before.length).toBeGreaterThan(0);
    const during: unknown[][] = [];
    const txs = [upsert(50, ACCOUNT_A, 'Snapshot A', 7), upsert(51, ACCOUNT_B, 'Snapshot B', 7)];
    const header = headerOf(1, txs, { kind: 'extract', epoch: 2 });
    function* batches() {
      yield [txs[0]];
      during.push(indexes());
      yield [txs[1]];
    }
    await new DownloadApplier(folder.store).apply(header, batches(), 2);
    // While the rows load, the synced tables have no secondary index; after, every one is back.
    expect(during[0].length).toBeLessThan(before.length);
    expect(indexes()).toEqual(before);
    const bad = { ...upsert(53, ACCOUNT_B, 'x', 1), row: { id: ACCOUNT_B, name: null } } as DxTransaction;
    await expect(
      apply(2, [upsert(52, ACCOUNT_C, 'C', 1), bad], { kind: 'extract', epoch: 3 }),
    ).rejects.toThrow(/is null but the column is NOT NULL/);
    expect(indexes()).toEqual(before);
    expect(accounts().map((a) => a.name)).toEqual(['Snapshot A', 'Snapshot B']);
  });

  it('applies nothing of a file with a bad row and says which transaction', async () => {
    const bad: DxTransaction = {
      seq: 11,
      at: AT,
      user: 'server',
      table: 'account',
      id: ACCOUNT_B,
      op: 'upsert',
      version: 1,
      row: { id: ACCOUNT_B, name: null },
    };
    await expect(apply(1, [upsert(10, ACCOUNT_A, 'Acme', 1), bad])).rejects.toThrow(
      /download file 1 \(epoch 1\), transaction #1 \(upsert account .*account\.name: is null but the column is NOT NULL/,
    );
    expect(accounts()).toEqual([]);
    expect(new DownloadApplier(folder.store).position()).toEqual({ epoch: 0, fileSeq: 0 });
    runStatement(folder.store, "INSERT INTO account(name) VALUES ('capture still on')");
    expect(log().pendingCount()).toBe(1);
  });
});
