/** The synced-table definition: one source for the laptop's SQLite tables and the server's Postgres tables. */
import type { DxValue } from '@outpost/dx-format';

export type ColumnType = 'uuid' | 'text' | 'integer' | 'decimal' | 'boolean' | 'date' | 'timestamp' | 'json';

export interface ColumnDef {
  name: string;
  type: ColumnType;
  nullable?: boolean;
  /** decimal only */
  precision?: number;
  scale?: number;
  /** Value a row gets when it has none for this column: rows that existed before the column was added, and inserts made under an older schema version. A wire value, e.g. `10`, `'open'`, `{ $dec: '0.00' }`. */
  default?: DxValue;
  /** Declared by a `deprecateColumn` step: still synced, dropped by a later version's `dropColumn`. */
  deprecated?: boolean;
}

/** Who receives a table's rows. A table's rules are a union: a client receives a row when any rule holds. */
export type VisibilityRule =
  /** Reference data: every client. */
  | { everyone: true }
  /** The clients whose user login is in this column of the row. */
  | { userColumn: string }
  /** The clients of `userColumn` in the rows of `table` whose `fk` equals this row's id (a team table). */
  | { via: { table: string; fk: string; userColumn: string } }
  /** Wherever the row of `table` that this row's `fk` points to is visible (a child row). */
  | { parent: { table: string; fk: string } }
  /** Wherever a visible row of `table` points to this row by `fk` (a referenced row). */
  | { referencedBy: { table: string; fk: string } };

export type UpdateConflictPolicy = 'server-wins' | 'client-wins' | 'latest-wins';
export type DeleteConflictPolicy = 'delete-wins' | 'resurrect';

export interface ConflictPolicy {
  update: UpdateConflictPolicy;
  delete: DeleteConflictPolicy;
}

/**
 * What a laptop may write in a table, checked on the server in the transaction that applies its
 * file, against the client's user and the table's visibility. Whatever the flags say, a laptop may
 * change or delete only rows its user could see before the change, may insert only rows its user
 * sees afterwards (through the row's own columns or a parent it could already see), and never makes
 * a row it could not see visible to itself (joining another user's team, pointing a row at someone
 * else's parent).
 */
export interface WriteRules {
  insert: boolean;
  update: boolean;
  delete: boolean;
  /** An update may take a row out of its user's visibility, e.g. reassign an opportunity to a colleague. */
  handOff: boolean;
}

export interface TableDefInput {
  name: string;
  /** Business columns; `id uuid` must be first. row_version, updated_at and sync_conflict_of are added. */
  columns: ColumnDef[];
  visibility: VisibilityRule[];
  conflict?: Partial<ConflictPolicy>;
  /** Business key: a second row with the same key is kept and marked as a conflict, never refused. */
  uniqueKey?: string[];
  /**
   * Defaults: insert, update and delete allowed within visibility, no hand-off; a table visible to
   * everyone (reference data) is read-only for laptops unless it says otherwise.
   */
  write?: Partial<WriteRules>;
  /** Extra indexes (column lists) on both sides, beside the ones visibility lookups get. */
  indexes?: string[][];
}

export interface SchemaDefInput {
  name: string;
  version: number;
  /** In foreign-key order: a table comes after the tables it points to. */
  tables: TableDefInput[];
}

export interface TableDef extends Required<
  Omit<TableDefInput, 'conflict' | 'uniqueKey' | 'write' | 'indexes'>
> {
  conflict: ConflictPolicy;
  write: WriteRules;
  uniqueKey: string[] | null;
  indexes: string[][];
  /** Business columns followed by the sync columns, in table order. */
  allColumns: ColumnDef[];
}

export interface Schema {
  name: string;
  version: number;
  tables: TableDef[];
  table(name: string): TableDef | undefined;
  /** The validated input, plain JSON: what a laptop stores to know its own schema whatever its code version. */
  definition: SchemaDefInput;
}

/** Columns every synced table carries on both sides, managed by the sync itself. */
export const SYNC_COLUMNS: readonly ColumnDef[] = [
  { name: 'row_version', type: 'integer', nullable: true },
  { name: 'updated_at', type: 'timestamp', nullable: true },
  { name: 'sync_conflict_of', type: 'uuid', nullable: true },
];
