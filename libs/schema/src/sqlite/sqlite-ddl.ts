import { ColumnDef, Schema, TableDef } from '../types';
import { sqliteLiteral } from './sqlite-codec';

/** Bookkeeping tables the capture triggers read and write; the agent adds its own `_outpost_*` tables. */
export const LOG_TABLE = '_outpost_log';
export const STATE_TABLE = '_outpost_state';
export const CONTROL_TABLE = '_outpost_control';

/** `_outpost_state` key holding the login of the laptop's user, stamped on the changes it extracts. */
export const STATE_USER_LOGIN = 'user_login';

/**
 * A random UUID v4 in plain SQLite, so that `INSERT INTO account(name) VALUES ('Acme')` works from any
 * program. `random() & 3` picks the variant nibble without abs(), which overflows on the smallest integer.
 */
export const SQLITE_UUID_V4 =
  "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || " +
  "substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))";

const SQLITE_TYPE: Record<ColumnDef['type'], 'TEXT' | 'INTEGER'> = {
  uuid: 'TEXT',
  text: 'TEXT',
  date: 'TEXT',
  timestamp: 'TEXT',
  decimal: 'TEXT',
  json: 'TEXT',
  integer: 'INTEGER',
  boolean: 'INTEGER',
};

export function sqliteColumnType(col: ColumnDef): 'TEXT' | 'INTEGER' {
  return SQLITE_TYPE[col.type];
}

/**
 * Cheap CHECKs so that a program writing the file directly cannot store a value the sync could not
 * send later (a REAL in a decimal column, 'yes' in a boolean...). The value codec validates the rest.
 */
function columnCheck(col: ColumnDef): string | null {
  const c = col.name;
  switch (col.type) {
    case 'integer':
      return `typeof(${c}) = 'integer'`;
    case 'boolean':
      return `${c} IN (0, 1)`;
    case 'decimal':
      // digits, at most one '.', '-' only in front, at least one digit
      return (
        `typeof(${c}) = 'text' AND ${c} NOT GLOB '*[^0-9.-]*' AND ${c} GLOB '*[0-9]*' ` +
        `AND ${c} NOT GLOB '?*-*' AND ${c} NOT GLOB '*.*.*'`
      );
    case 'date':
      return `${c} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND date(${c}) = ${c}`;
    case 'timestamp':
      return `julianday(${c}) IS NOT NULL`;
    case 'json':
      return `json_valid(${c})`;
    case 'uuid':
      return `length(${c}) = 36 AND ${c} GLOB '*-*-*-*-*'`;
    case 'text':
      return null;
  }
}

/** One column's definition, as CREATE TABLE and ALTER TABLE ADD COLUMN write it. */
export function sqliteColumnDdl(col: ColumnDef): string {
  if (col.name === 'id')
    return `id TEXT NOT NULL PRIMARY KEY DEFAULT (${SQLITE_UUID_V4}) CHECK (${columnCheck(col)})`;
  const parts = [col.name, sqliteColumnType(col)];
  if (!col.nullable) parts.push('NOT NULL');
  if (col.default !== undefined && col.default !== null)
    parts.push(`DEFAULT ${sqliteLiteral(col, col.default)}`);
  const check = columnCheck(col);
  if (check) parts.push(`CHECK (${col.nullable ? `${col.name} IS NULL OR ` : ''}(${check}))`);
  return parts.join(' ');
}

/** CREATE TABLE for one synced table: business columns, then row_version, updated_at, sync_conflict_of. */
export function sqliteTableDdl(table: TableDef): string {
  const cols = table.columns.map(sqliteColumnDdl);
  cols.push('row_version INTEGER', 'updated_at TEXT', 'sync_conflict_of TEXT');
  return `CREATE TABLE IF NOT EXISTS ${table.name} (\n  ${cols.join(',\n  ')}\n)`;
}

/** The table's declared indexes (the laptop needs no routing lookups). */
export function sqliteIndexesDdl(table: TableDef): string[] {
  return table.indexes.map(
    (cols) =>
      `CREATE INDEX IF NOT EXISTS ${table.name}_${cols.join('_')}_idx ON ${table.name} (${cols.join(', ')})`,
  );
}

/**
 * The bookkeeping tables the triggers need. `seq` is the client transaction seq; it is a plain rowid
 * (AUTOINCREMENT costs a sqlite_sequence write per change), so the agent keeps the newest confirmed entry
 * as a high-water mark instead of deleting it, and seqs never restart. `at` is unix seconds (REAL): the
 * cheapest clock in a trigger; the agent formats it when it extracts. The log is kept small (confirmed
 * entries are deleted), so it needs no index beyond its rowid.
 */
export function sqliteBookkeepingDdl(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (key TEXT NOT NULL PRIMARY KEY, value TEXT)`,
    `CREATE TABLE IF NOT EXISTS ${CONTROL_TABLE} (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), applying INTEGER NOT NULL DEFAULT 0)`,
    `INSERT OR IGNORE INTO ${CONTROL_TABLE} (id, applying) VALUES (1, 0)`,
    `CREATE TABLE IF NOT EXISTS ${LOG_TABLE} (
  seq INTEGER PRIMARY KEY,
  at REAL NOT NULL,
  table_name TEXT NOT NULL,
  row_id TEXT NOT NULL,
  op TEXT NOT NULL,
  row_json TEXT,
  changes_json TEXT,
  base_version INTEGER,
  file_seq INTEGER,
  confirmed INTEGER
)`,
  ];
}

/**
 * Every statement that creates the local store for a schema, idempotent (IF NOT EXISTS). No unique
 * business-key index locally: the server keeps and marks duplicates, and a downloaded row must never be
 * refused because a pending local insert has the same key.
 */
export function sqliteSchemaDdl(schema: Schema): string[] {
  const out = sqliteBookkeepingDdl();
  for (const table of schema.tables) out.push(sqliteTableDdl(table), ...sqliteIndexesDdl(table));
  return out;
}
