import type { DxRow } from '@outpost/dx-format';

const CONFLICT_OF = 'sync_conflict_of';

/**
 * A row kept as a duplicate business key names the row that holds the key (`sync_conflict_of`).
 * A laptop that may not see that row gets the marked row's own id there instead: it learns that
 * its row is a duplicate, never the id of a row it cannot see.
 */
export function conflictHolder(id: string, row: DxRow): string | null {
  const holder = row[CONFLICT_OF];
  return typeof holder === 'string' && holder !== id ? holder : null;
}

/** The row as a laptop that does not see its key's holder receives it. */
export function withHolderHidden(id: string, row: DxRow): DxRow {
  return { ...row, [CONFLICT_OF]: id };
}

/** Hides every holder `visible` says no to; rows without a holder come back as they are. */
export function hideHolders<T extends { id: string; row: DxRow }>(
  rows: T[],
  visible: ReadonlySet<string>,
): T[] {
  return rows.map((r) => {
    const holder = conflictHolder(r.id, r.row);
    return holder === null || visible.has(holder) ? r : { ...r, row: withHolderHidden(r.id, r.row) };
  });
}
