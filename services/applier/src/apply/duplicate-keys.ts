import type { DxRow } from '@outpost/dx-format';
import { dxKey, type ColumnDef, type TableDef } from '@outpost/schema';
import type { ConflictRecord, RowOutcome, RowValues } from './chunk-types';

/** The business-key values of a row, or null when a key column is null (a unique index never matches nulls). */
export function businessKey(table: TableDef, values: DxRow): string | null {
  if (!table.uniqueKey) return null;
  const parts: string[] = [];
  for (const name of table.uniqueKey) {
    const col = table.columns.find((c) => c.name === name) as ColumnDef;
    const v = values[name];
    if (v === null || v === undefined) return null;
    parts.push(dxKey(col, v));
  }
  return parts.join('\u0001');
}

/** Rows whose business key is new or changed and not yet marked: they need a duplicate check. */
export function keyCandidates(outcomes: RowOutcome[]): RowOutcome[] {
  return outcomes.filter((o) => {
    if (!o.table.uniqueKey || !o.after || o.after.conflictOf !== null) return false;
    const key = businessKey(o.table, o.after.values);
    if (key === null) return false;
    return !o.before || o.before.conflictOf !== null || businessKey(o.table, o.before.values) !== key;
  });
}

/**
 * Insert (or re-key) with a business key another row already holds: both rows are kept, the
 * incoming one is marked `sync_conflict_of` = the holder, so the partial unique index holds and a
 * person can merge them. `holders` maps table -> key -> id of unmarked server rows outside the chunk.
 */
export function markDuplicateKeys(
  outcomes: RowOutcome[],
  holders: Map<string, Map<string, string>>,
  txnAt: (index: number) => string,
): ConflictRecord[] {
  const conflicts: ConflictRecord[] = [];
  const candidates = new Set(keyCandidates(outcomes));
  const claims = new Map<string, Map<string, string>>();
  const claimsOf = (table: string) => {
    let m = claims.get(table);
    if (!m) claims.set(table, (m = new Map(holders.get(table) ?? [])));
    return m;
  };
  // Rows that keep the key they already held in the database keep their claim.
  for (const o of outcomes) {
    if (candidates.has(o) || !o.after || o.after.conflictOf !== null) continue;
    const key = businessKey(o.table, o.after.values);
    if (key !== null) claimsOf(o.table.name).set(key, o.id);
  }
  const ordered = [...candidates].sort((a, b) => a.lastTxnIndex - b.lastTxnIndex);
  for (const o of ordered) {
    const after = o.after as RowValues;
    const key = businessKey(o.table, after.values) as string;
    const tableClaims = claimsOf(o.table.name);
    const holder = tableClaims.get(key);
    if (holder === undefined || holder === o.id) {
      tableClaims.set(key, o.id);
      continue;
    }
    after.conflictOf = holder;
    o.echo = true;
    const keyValues = Object.fromEntries((o.table.uniqueKey ?? []).map((c) => [c, after.values[c]]));
    conflicts.push({
      kind: 'duplicate-key',
      table: o.table.name,
      rowId: o.id,
      column: (o.table.uniqueKey ?? []).join(','),
      serverValue: { id: holder, ...keyValues },
      clientValue: { id: o.id, ...keyValues },
      serverAt: null,
      clientAt: txnAt(o.lastTxnIndex),
      clientAtClamped: null,
      policy: 'keep-both',
      winner: 'server',
    });
  }
  return conflicts;
}
