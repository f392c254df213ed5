/** The synced-table definition: one source for the laptop's SQLite tables and the server's Postgres tables. */

export type ColumnType = 'uuid' | 'text' | 'integer' | 'decimal' | 'boolean' | 'date' | 'timestamp' | 'json';

export interface ColumnDef {
  name: string;
  type: ColumnType;
  nullable?: boolean;
  /** decimal only */
  precision?: number;
  scale?: number;
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

export interface TableDefInput {
  name: string;
  /** Business columns; `id uuid` must be first. row_version, updated_at and sync_conflict_of are added. */
  columns: ColumnDef[];
  visibility: VisibilityRule[];
  conflict?: Partial<ConflictPolicy>;
  /** Business key: a second row with the same key is kept and marked as a conflict, never refused. */
  uniqueKey?: string[];
}

export interface SchemaDefInput {
  name: string;
  version: number;
  /** In foreign-key order: a table comes after the tables it points to. */
  tables: TableDefInput[];
}

export interface TableDef extends Required<Omit<TableDefInput, 'conflict' | 'uniqueKey'>> {
  conflict: ConflictPolicy;
  uniqueKey: string[] | null;
  /** Business columns followed by the sync columns, in table order. */
  allColumns: ColumnDef[];
}

export interface Schema {
  name: string;
  version: number;
  tables: TableDef[];
  table(name: string): TableDef | undefined;
}

/** Columns every synced table carries on both sides, managed by the sync itself. */
export const SYNC_COLUMNS: readonly ColumnDef[] = [
  { name: 'row_version', type: 'integer', nullable: true },
  { name: 'updated_at', type: 'timestamp', nullable: true },
  { name: 'sync_conflict_of', type: 'uuid', nullable: true },
];
