import type { DxRow } from '@outpost/dx-format';
import { dxKey, type Schema, type TableDef } from '@outpost/schema';
import { rowKey, type IndexedTxn, type RowOutcome, type RowValues, type ServerRow } from './chunk-types';
import type { TableSql } from './table-sql';
import type { KnownRows } from './write-guard';

/** Row sets and statements of one chunk: pure functions of what the chunk holds. */

/** One statement of a chunk's writes and the user it writes for (the log's origin_user). */
export interface Write {
  user: string;
  query: { text: string; values: unknown[] };
}

/** The rows of the chunk the server holds, by table: whether the user sees them decides who may touch them. */
export function loadedIds(txns: IndexedTxn[], loaded: Map<string, ServerRow>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const { tx } of txns) {
    if (!loaded.has(rowKey(tx.table, tx.id))) continue;
    let ids = out.get(tx.table);
    if (!ids) out.set(tx.table, (ids = new Set()));
    ids.add(tx.id);
  }
  return out;
}

export function survivingIds(outcomes: RowOutcome[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const o of outcomes) {
    if (!o.after) continue;
    let ids = out.get(o.table.name);
    if (!ids) out.set(o.table.name, (ids = new Set()));
    ids.add(o.id);
  }
  return out;
}

/** Every write of a chunk, values already converted, in the order they must run. */
export function statements(schema: Schema, tables: Map<string, TableSql>, outcomes: RowOutcome[]): Write[] {
  const out: Write[] = [];
  for (const table of schema.tables) {
    const mine = outcomes.filter((o) => o.table === table);
    if (mine.length === 0) continue;
    const sql = tables.get(table.name) as TableSql;
    const deletes = new Map<string, string[]>();
    const upserts = new Map<string, RowValues[]>();
    for (const o of mine) {
      if (o.before && !o.after) push(deletes, o.user, o.id);
      else if (o.after && (!o.before || changed(table, o.before, o.after))) push(upserts, o.user, o.after);
    }
    // Deletes first: a key freed by a deleted row may be taken by an upserted one.
    for (const [user, ids] of deletes) out.push({ user, query: sql.delete(ids) });
    for (const [user, rows] of upserts) out.push({ user, query: sql.upsert(rows) });
  }
  return out;
}

export function union(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  return new Set([...a, ...b]);
}

export function merge(a: Map<string, Set<string>>, b: Map<string, Set<string>>): Map<string, Set<string>> {
  const out = new Map([...a].map(([k, v]) => [k, new Set(v)]));
  for (const [k, v] of b) {
    const ids = out.get(k);
    if (ids) for (const id of v) ids.add(id);
    else out.set(k, new Set(v));
  }
  return out;
}

/** Known rows by table and id, for the write guard (see KnownRows). */
export function knownRows(rows: Array<[string, string, DxRow | null]>): KnownRows {
  const out = new Map<string, Map<string, DxRow | null>>();
  for (const [table, id, values] of rows) {
    let ofTable = out.get(table);
    if (!ofTable) out.set(table, (ofTable = new Map()));
    ofTable.set(id, values);
  }
  return out;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function changed(table: TableDef, before: ServerRow, after: RowValues): boolean {
  if (before.conflictOf !== after.conflictOf) return true;
  return table.columns.some((c) => dxKey(c, before.values[c.name]) !== dxKey(c, after.values[c.name]));
}
