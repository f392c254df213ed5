import path from 'node:path';
import Database from 'better-sqlite3';
import { types, type Pool } from 'pg';
import {
  compileVisibility,
  dxKey,
  pgToDx,
  pgTypeParsers,
  sqliteColumnCodec,
  type ColumnDef,
  type Schema,
  type TableDef,
} from '@outpost/schema';

/**
 * The convergence oracle: a laptop holds exactly the rows its user may see on the server, with the
 * server's values. The server side is a Postgres query of the schema's visibility rules for the
 * user's login (the extract's own inverse query), so the oracle does not trust the router's routing
 * state; both sides are compared as comparison keys of their wire values (1.5 = 1.50, one instant in
 * any zone, uuids in any case).
 *
 * Compared: every business column and `sync_conflict_of` (as laptops hold it: a duplicate-key row
 * is marked with its own id, never with the holder's, see services/router's row-json.ts). Not
 * compared: `row_version` and
 * `updated_at`, the server's bookkeeping, which a laptop learns with the next server change of the
 * row: the server confirms a laptop's own applied change without echoing the row, so the laptop's
 * copy keeps the version it last received (the base its next change is sent with).
 */

/** table → row id → column → comparison key. */
export type RowKeys = Map<string, Map<string, Record<string, string>>>;

export interface OracleDifference {
  table: string;
  id: string;
  /** The row as the laptop holds it (null: missing on the laptop). */
  laptop: Record<string, string> | null;
  /** The row as the server holds it for the user (null: the user may not see it, or it is gone). */
  server: Record<string, string> | null;
}

const parsers = pgTypeParsers(types);

/**
 * Every row each table shows `userLogin` on the server, as comparison keys of the compared columns
 * (`null`: every row, whoever sees it).
 */
export async function serverRowsFor(db: Pool, schema: Schema, userLogin: string | null): Promise<RowKeys> {
  const plan = compileVisibility(schema);
  const out: RowKeys = new Map();
  for (const table of schema.tables) {
    const cols = comparedColumns(table)
      .map((c) => `"${c.name}"`)
      .join(', ');
    const res = await db.query({
      text:
        userLogin === null
          ? `SELECT ${cols} FROM "${table.name}"`
          : `SELECT ${cols} FROM "${table.name}" WHERE id IN (${plan.inverseIdsSql(table.name)})`,
      values: userLogin === null ? [] : [userLogin],
      types: parsers,
    });
    const rows = new Map<string, Record<string, string>>();
    for (const row of res.rows as Array<Record<string, unknown>>) {
      const keys = keysOf(table, (col) => pgToDx(col, row[col.name]));
      rows.set(keys.id, keys);
    }
    if (userLogin !== null) markAsLaptopsSee(table, rows);
    out.set(table.name, rows);
  }
  return out;
}

/** Every row of every synced table in a laptop's SQLite store (`dbFile`, or a client folder's). */
export function laptopRows(schema: Schema, where: { dbFile: string } | { dir: string }): RowKeys {
  const file = 'dbFile' in where ? where.dbFile : path.join(where.dir, 'local.db');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const out: RowKeys = new Map();
    for (const table of schema.tables) {
      const codecs = new Map(comparedColumns(table).map((c) => [c.name, sqliteColumnCodec(table, c)]));
      const rows = new Map<string, Record<string, string>>();
      for (const row of db.prepare(`SELECT * FROM "${table.name}"`).all() as Array<Record<string, unknown>>) {
        const keys = keysOf(table, (col) => codecs.get(col.name)!.toDx(row[col.name]));
        rows.set(keys.id, keys);
      }
      out.set(table.name, rows);
    }
    return out;
  } finally {
    db.close();
  }
}

/** Rows that differ between the two sides, in table order then id order (empty when they agree). */
/** Rows that differ between the two sides, in table order then id order (empty when they agree). */
export function oracleDifferences(laptop: RowKeys, server: RowKeys): OracleDifference[] {
  const out: OracleDifference[] = [];
  for (const [table, serverRows] of server) {
    const laptopTable = laptop.get(table) ?? new Map<string, Record<string, string>>();
    const ids = [...new Set([...serverRows.keys(), ...laptopTable.keys()])].sort();
    for (const id of ids) {
      const l = laptopTable.get(id) ?? null;
      const s = serverRows.get(id) ?? null;
      if (JSON.stringify(l) === JSON.stringify(s)) continue;
      out.push({ table, id, laptop: l, server: s });
    }
  }
  return out;
}

/** What a laptop of `userLogin` holds that differs from what the server's visibility rules give it. */
export async function checkAgainstOracle(
  db: Pool,
  schema: Schema,
  userLogin: string,
  where: { dbFile: string } | { dir: string },
): Promise<OracleDifference[]> {
  return oracleDifferences(laptopRows(schema, where), await serverRowsFor(db, schema, userLogin));
}

/** A row kept as a duplicate business key reaches laptops marked with its own id. */
function markAsLaptopsSee(table: TableDef, rows: Map<string, Record<string, string>>): void {
  const col = table.allColumns.find((c) => c.name === 'sync_conflict_of');
  if (!col) return;
  for (const [id, keys] of rows) if (keys[col.name] !== 'null') keys[col.name] = dxKey(col, id);
}

const BOOKKEEPING = new Set(['row_version', 'updated_at']);

/** The columns the oracle compares, in table order. */
export function comparedColumns(table: TableDef): ColumnDef[] {
  return table.allColumns.filter((c) => !BOOKKEEPING.has(c.name));
}

function keysOf(table: TableDef, value: (col: ColumnDef) => unknown): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const col of comparedColumns(table)) {
    const v = value(col);
    // Keys are built in column order, so two rows with equal keys print equal JSON.
    keys[col.name] = col.name === 'id' ? String(v).toLowerCase() : dxKey(col, v as never);
  }
  return keys;
}
