import Database from 'better-sqlite3';
import { salesSchema } from '../sales.schema';
import { CONTROL_TABLE, LOG_TABLE, sqliteSchemaDdl, sqliteTableDdl, STATE_TABLE } from './sqlite-ddl';
import { sqliteSchemaTriggers } from './sqlite-triggers';
import { canonicalDecimal, canonicalTimestamp, SqliteTableCodec, SqliteValueError } from './sqlite-codec';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function store(): Database.Database {
  const db = new Database(':memory:');
  for (const sql of [...sqliteSchemaDdl(salesSchema), ...sqliteSchemaTriggers(salesSchema)]) db.exec(sql);
  return db;
}

const log = (db: Database.Database) =>
  db.prepare(`SELECT * FROM ${LOG_TABLE} ORDER BY seq`).all() as {
    seq: number;
    at: number;
    table_name: string;
    row_id: string;
    op: string;
    row_json: string | null;
    changes_json: string | null;
    base_version: number | null;
  }[];

describe('SQLite DDL', () => {
  it('maps column types to TEXT/INTEGER, never REAL, and adds the sync columns', () => {
    const ddl = sqliteTableDdl(salesSchema.table('opportunity')!);
    expect(ddl).toMatch(/amount TEXT CHECK/);
    expect(ddl).toMatch(/close_date TEXT CHECK/);
    expect(ddl).not.toMatch(/REAL/);
    expect(ddl).toMatch(/row_version INTEGER,\s+updated_at TEXT,\s+sync_conflict_of TEXT/);
  });

  it('generates a random UUID v4 id when a program inserts without one', () => {
    const db = store();
    db.exec("INSERT INTO account(name) VALUES ('Acme'), ('Globex')");
    const ids = db.prepare('SELECT id FROM account').pluck().all() as string[];
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('refuses values the sync could not send', () => {
    const db = store();
    db.exec("INSERT INTO account(id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'A')");
    const opp = (amount: string, date: string) =>
      db.exec(
        `INSERT INTO opportunity(account_id, name, stage, amount, close_date, owner_login)
         VALUES ('00000000-0000-4000-8000-000000000001', 'o', 's', ${amount}, ${date}, 'alice')`,
      );
    expect(() => opp("'12.50'", "'2025-02-28'")).not.toThrow();
    expect(() => opp("'abc'", 'NULL')).toThrow(/CHECK/);
    expect(() => opp("'1-2'", 'NULL')).toThrow(/CHECK/);
    expect(() => opp('NULL', "'2025-02-30'")).toThrow(/CHECK/);
    expect(() => db.exec("INSERT INTO account(id, name) VALUES ('not-a-uuid', 'B')")).toThrow(/CHECK/);
  });
});

describe('SQLite capture triggers', () => {
  it('logs an insert with all business columns', () => {
    const db = store();
    db.exec(
      "INSERT INTO account(id, name, owner_login) VALUES ('00000000-0000-4000-8000-000000000001', 'Acme', 'alice')",
    );
    const [entry] = log(db);
    expect(entry).toMatchObject({
      seq: 1,
      table_name: 'account',
      row_id: '00000000-0000-4000-8000-000000000001',
      op: 'insert',
    });
    expect(JSON.parse(entry.row_json!)).toEqual({
      id: '00000000-0000-4000-8000-000000000001',
      name: 'Acme',
      owner_login: 'alice',
    });
    expect(entry.at).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it('logs only the changed columns of an update, with the base version, and nothing for a no-op update', () => {
    const db = store();
    db.exec(
      "INSERT INTO account(id, name, owner_login, row_version) VALUES ('00000000-0000-4000-8000-000000000001', 'Acme', 'alice', 7)",
    );
    db.exec("UPDATE account SET name = 'Acme Corp', owner_login = 'alice' WHERE name = 'Acme'");
    db.exec("UPDATE account SET name = 'Acme Corp' WHERE name = 'Acme Corp'");
    const entries = log(db);
    expect(entries.map((e) => e.op)).toEqual(['insert', 'update']);
    expect(JSON.parse(entries[1].changes_json!)).toEqual({ name: { old: 'Acme', new: 'Acme Corp' } });
    expect(entries[1].base_version).toBe(7);
  });

  it('logs a delete with the base version', () => {
    const db = store();
    db.exec(
      "INSERT INTO account(id, name, row_version) VALUES ('00000000-0000-4000-8000-000000000001', 'Acme', 3)",
    );
    db.exec('DELETE FROM account');
    expect(log(db)[1]).toMatchObject({
      op: 'delete',
      base_version: 3,
      row_id: '00000000-0000-4000-8000-000000000001',
    });
  });

  it('refuses a change of id with a clear message', () => {
    const db = store();
    db.exec("INSERT INTO account(name) VALUES ('Acme')");
    expect(() => db.exec("UPDATE account SET id = '00000000-0000-4000-8000-000000000009'")).toThrow(
      /the id of a synced row cannot change \(table account\)/,
    );
  });

  it('records nothing while the apply flag is set, and rolls the flag back with its transaction', () => {
    const db = store();
    db.transaction(() => {
      db.exec(`UPDATE ${CONTROL_TABLE} SET applying = 1`);
      db.exec("INSERT INTO account(name) VALUES ('From server')");
      db.exec(`UPDATE ${CONTROL_TABLE} SET applying = 0`);
    })();
    expect(log(db)).toHaveLength(0);
    expect(() =>
      db.transaction(() => {
        db.exec(`UPDATE ${CONTROL_TABLE} SET applying = 1`);
        throw new Error('crash');
      })(),
    ).toThrow('crash');
    db.exec("INSERT INTO account(name) VALUES ('Local')");
    expect(log(db)).toHaveLength(1);
  });

  it('creates the bookkeeping tables idempotently', () => {
    const db = store();
    for (const sql of [...sqliteSchemaDdl(salesSchema), ...sqliteSchemaTriggers(salesSchema)]) db.exec(sql);
    expect(db.prepare(`SELECT count(*) FROM ${CONTROL_TABLE}`).pluck().get()).toBe(1);
    expect(db.prepare(`SELECT count(*) FROM ${STATE_TABLE}`).pluck().get()).toBe(0);
  });
});

describe('SQLite value codec', () => {
  const opp = new SqliteTableCodec(salesSchema.table('opportunity')!);

  it('converts SQLite values to typed DX values and back', () => {
    expect(opp.column('amount').toDx('1250000.5')).toEqual({ $dec: '1250000.50' });
    expect(opp.column('amount').fromDx({ $dec: '12.345' })).toBe('12.35');
    expect(opp.column('close_date').toDx('2025-03-01')).toEqual({ $date: '2025-03-01' });
    expect(opp.column('updated_at').toDx('2025-03-01 10:00:00+02:00')).toEqual({
      $ts: '2025-03-01T08:00:00.000Z',
    });
    expect(opp.column('updated_at').fromDx({ $ts: '2025-03-01T08:00:00.123456Z' })).toBe(
      '2025-03-01T08:00:00.123456Z',
    );
    expect(opp.column('row_version').toDx(9007199254740993n)).toEqual({ $int: '9007199254740993' });
    expect(opp.column('amount').toDx(null)).toBeNull();
  });

  it('names the table and column of an invalid value', () => {
    expect(() => opp.column('amount').toDx('12x')).toThrow(
      new SqliteValueError('opportunity', 'amount', '"12x" is not a decimal(18,2)'),
    );
    expect(() => opp.column('name').fromDx(null)).toThrow(
      /opportunity\.name: is null but the column is NOT NULL/,
    );
    expect(() => opp.column('close_date').fromDx({ $date: '2025-13-01' })).toThrow(/opportunity\.close_date/);
  });

  it('handles booleans and JSON columns', () => {
    const table = {
      ...salesSchema.table('account')!,
      columns: [
        { name: 'id', type: 'uuid' as const },
        { name: 'active', type: 'boolean' as const },
        { name: 'doc', type: 'json' as const, nullable: true },
      ],
    };
    const codec = new SqliteTableCodec({ ...table, allColumns: table.columns });
    expect(codec.column('active').toDx(1)).toBe(true);
    expect(codec.column('active').fromDx(false)).toBe(0);
    expect(() => codec.column('active').toDx(2)).toThrow(/account\.active/);
    expect(codec.column('doc').toDx('{"a":[1,2]}')).toEqual({ $json: { a: [1, 2] } });
    expect(codec.column('doc').fromDx({ $json: { a: 1 } })).toBe('{"a":1}');
  });

  it('canonicalises decimals and timestamps', () => {
    expect(canonicalDecimal('-0.004', 18, 2)).toBe('0.00');
    expect(canonicalDecimal('9.995', 3, 2)).toBeNull();
    expect(canonicalDecimal('9.995', 4, 2)).toBe('10.00');
    expect(canonicalDecimal('007', 18, 2)).toBe('7.00');
    expect(canonicalTimestamp('2024-02-29T23:30:00-01:00')).toBe('2024-03-01T00:30:00.000Z');
    expect(canonicalTimestamp('2024-02-30T00:00:00Z')).toBeNull();
  });
});
