import Database from 'better-sqlite3';
import { agentPaths } from '../config/agent-config';
import { ACCOUNT_A, makeClientFolder } from '../testing/fixtures';
import { LogRepository } from './log.repository';
import { runStatement } from './sql';

describe('capture in the local store', () => {
  let folder: ReturnType<typeof makeClientFolder>;
  beforeEach(() => (folder = makeClientFolder()));
  afterEach(() => folder.cleanup());

  const entries = () =>
    folder.store.db
      .prepare('SELECT seq, table_name, op, row_json, changes_json FROM _outpost_log ORDER BY seq')
      .all() as {
      seq: number;
      op: string;
      row_json: string | null;
      changes_json: string | null;
    }[];

  it('captures inserts, updates and deletes made through the agent, in seq order', () => {
    runStatement(folder.store, `INSERT INTO account(id, name) VALUES ('${ACCOUNT_A}', 'Acme')`);
    runStatement(folder.store, `UPDATE account SET owner_login = 'alice' WHERE id = '${ACCOUNT_A}'`);
    expect(
      runStatement(folder.store, `UPDATE account SET owner_login = 'alice' WHERE id = '${ACCOUNT_A}'`),
    ).toBe(1);
    runStatement(folder.store, `DELETE FROM account WHERE id = '${ACCOUNT_A}'`);
    expect(entries().map((e) => [e.seq, e.op])).toEqual([
      [1, 'insert'],
      [2, 'update'],
      [3, 'delete'],
    ]);
    expect(new LogRepository(folder.store).pendingCount()).toBe(3);
  });

  it('captures writes of another program on the same SQLite file, in its own transaction', () => {
    const other = new Database(agentPaths(folder.cfg.dir).db);
    try {
      other.exec("INSERT INTO account(name) VALUES ('Written elsewhere')");
      other.exec("UPDATE account SET name = 'Renamed elsewhere'");
      expect(() =>
        other.transaction(() => {
          other.exec("INSERT INTO account(name) VALUES ('Rolled back')");
          throw new Error('application failure');
        })(),
      ).toThrow('application failure');
    } finally {
      other.close();
    }
    const log = entries();
    expect(log.map((e) => e.op)).toEqual(['insert', 'update']);
    expect(JSON.parse(log[0].row_json!)).toMatchObject({ name: 'Written elsewhere' });
    expect(JSON.parse(log[1].changes_json!)).toEqual({
      name: { old: 'Written elsewhere', new: 'Renamed elsewhere' },
    });
  });

  it('keeps seqs increasing after confirmed entries are removed', () => {
    runStatement(folder.store, "INSERT INTO account(name) VALUES ('one')");
    runStatement(folder.store, "INSERT INTO account(name) VALUES ('two')");
    const log = new LogRepository(folder.store);
    log.markExtracted(1, 1, 2);
    expect(log.confirmUpTo(2)).toBe(2);
    runStatement(folder.store, "INSERT INTO account(name) VALUES ('three')");
    expect(log.unconfirmedEntries().map((e) => e.seq)).toEqual([3]);
  });
});
