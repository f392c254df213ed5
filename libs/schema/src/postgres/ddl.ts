import type { ColumnDef, ColumnType, Schema, TableDef } from '../types';
import { dxToPg } from './codec';

/** Identifiers come only from a validated schema definition; quoting still guards reserved words. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function postgresColumnType(col: ColumnDef): string {
  const types: Record<ColumnType, string> = {
    uuid: 'uuid',
    text: 'text',
    integer: 'bigint',
    decimal: `numeric(${col.precision ?? 18},${col.scale ?? 0})`,
    boolean: 'boolean',
    date: 'date',
    timestamp: 'timestamptz',
    json: 'jsonb',
  };
  return types[col.type];
}

/** A column's declared default as a Postgres literal of its type. */
export function postgresDefault(col: ColumnDef): string | null {
  if (col.default === undefined || col.default === null) return null;
  const value = dxToPg(col, col.default);
  const text = typeof value === 'string' ? `'${value.replace(/'/g, "''")}'` : String(value);
  return `${text}::${postgresColumnType(col)}`;
}

/** One column's definition, as CREATE TABLE and ALTER TABLE ADD COLUMN write it. */
export function postgresColumnDdl(col: ColumnDef): string {
  const notNull = col.name === 'id' ? ' PRIMARY KEY' : col.nullable ? ' NULL' : ' NOT NULL';
  const def = postgresDefault(col);
  return `${quoteIdent(col.name)} ${postgresColumnType(col)}${def ? ` DEFAULT ${def}` : ''}${notNull}`;
}

/** CREATE INDEX for one declared index (idempotent: an upgrade may meet it already there). */
export function postgresIndexDdl(table: TableDef, columns: string[]): string {
  return (
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table.name}_${columns.join('_')}_idx`)} ` +
    `ON ${quoteIdent(table.name)} (${columns.map(quoteIdent).join(', ')})`
  );
}

/** Indexes on the columns visibility rules look rows up by, and the declared ones. */
export function postgresIndexesDdl(schema: Schema, table: TableDef): string[] {
  return [
    ...lookupColumns(schema, table).map((col) => postgresIndexDdl(table, [col])),
    ...table.indexes.map((cols) => postgresIndexDdl(table, cols)),
  ];
}

/** Name of the constraint that holds the table's business key. */
export function uniqueKeyIndexName(table: TableDef): string {
  return `${table.name}_unique_key`;
}

/**
 * CREATE statements for one synced table: business columns, the sync columns, the business key
 * (rows kept as duplicate-key conflicts are exempt), and indexes on the columns visibility rules look
 * rows up by. The key is a deferred exclusion constraint rather than a unique index: one statement
 * of the applier may move a key from one row to another (a rename and an insert of the old name),
 * which a unique index refuses mid-statement although the committed rows are unique.
 */
export function postgresTableDdl(schema: Schema, table: TableDef): string[] {
  const cols = table.columns.map((c) => `  ${postgresColumnDdl(c)}`);
  cols.push(
    '  row_version bigint NOT NULL DEFAULT 1',
    '  updated_at timestamptz NOT NULL DEFAULT now()',
    '  sync_conflict_of uuid NULL',
  );
  const out = [`CREATE TABLE ${quoteIdent(table.name)} (\n${cols.join(',\n')}\n)`];
  if (table.uniqueKey) {
    out.push(
      `ALTER TABLE ${quoteIdent(table.name)} ADD CONSTRAINT ${quoteIdent(uniqueKeyIndexName(table))} ` +
        `EXCLUDE USING btree (${table.uniqueKey.map((c) => `${quoteIdent(c)} WITH =`).join(', ')}) ` +
        'WHERE (sync_conflict_of IS NULL) DEFERRABLE INITIALLY DEFERRED',
    );
  }
  out.push(...postgresIndexesDdl(schema, table));
  return out;
}

/** Every synced table, in foreign-key order. */
export function postgresSchemaDdl(schema: Schema): string[] {
  return schema.tables.flatMap((t) => postgresTableDdl(schema, t));
}

/** Drops every synced table, in reverse order. */
export function postgresSchemaDropDdl(schema: Schema): string[] {
  return [...schema.tables].reverse().map((t) => `DROP TABLE IF EXISTS ${quoteIdent(t.name)}`);
}

/** Columns of `table` that routing filters on (user columns and foreign keys named by visibility rules). */
function lookupColumns(schema: Schema, table: TableDef): string[] {
  return visibilityColumns(schema, table).filter((c) => c !== 'id');
}

/**
 * Columns of `table` whose values decide who sees a row of any table: its own user columns and
 * parent keys, and the keys and user columns that other tables' rules read from it. The capture
 * trigger logs their old values, so the router can tell who saw a row before it changed.
 */
export function visibilityColumns(schema: Schema, table: TableDef): string[] {
  const cols = new Set<string>();
  for (const rule of table.visibility) {
    if ('userColumn' in rule) cols.add(rule.userColumn);
    if ('parent' in rule) cols.add(rule.parent.fk);
  }
  for (const other of schema.tables) {
    for (const rule of other.visibility) {
      if ('via' in rule && rule.via.table === table.name) {
        cols.add(rule.via.fk);
        cols.add(rule.via.userColumn);
      }
      if ('referencedBy' in rule && rule.referencedBy.table === table.name) cols.add(rule.referencedBy.fk);
    }
  }
  const order = table.columns.map((c) => c.name);
  return [...cols].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}
