import type { DxRow } from '@outpost/dx-format';
import {
  canonicalDxToPg,
  dxToPg,
  pgToDx,
  postgresColumnType,
  quoteIdent,
  type ColumnDef,
  type TableDef,
} from '@outpost/schema';
import type { RowValues, ServerRow } from './chunk-types';

/** Array element type for unnest(): numeric(p,s)[] is just numeric[]. */
function arrayType(col: ColumnDef): string {
  return col.type === 'decimal' ? 'numeric[]' : `${postgresColumnType(col)}[]`;
}

const CONFLICT_OF: ColumnDef = { name: 'sync_conflict_of', type: 'uuid', nullable: true };
const UPDATED_AT: ColumnDef = { name: 'updated_at', type: 'timestamp' };

/**
 * The applier's statements for one synced table. Identifiers come from the schema definition only;
 * every value is a parameter. Rows travel as one array per column through unnest(), so a statement
 * carries thousands of rows with a fixed parameter count and one cached plan.
 */
export class TableSql {
  readonly quotedName: string;
  private readonly cols: ColumnDef[];
  private readonly selectSql: string;
  private readonly upsertSql: string;
  private readonly deleteSql: string;

  constructor(readonly table: TableDef) {
    this.cols = [...table.columns, CONFLICT_OF];
    const name = quoteIdent(table.name);
    this.quotedName = name;
    const list = this.cols.map((c) => quoteIdent(c.name)).join(', ');
    this.selectSql = `SELECT ${list}, row_version::text AS row_version, updated_at FROM ${name} WHERE id = ANY($1::uuid[]) FOR UPDATE`;
    // updated_at carries the change time of the client's transaction (the capture trigger keeps it).
    const written = [...this.cols, UPDATED_AT];
    const unnest = written.map((c, i) => `$${i + 1}::${arrayType(c)}`).join(', ');
    const sets = written
      .filter((c) => c.name !== 'id')
      .map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`)
      .join(', ');
    const writtenList = written.map((c) => quoteIdent(c.name)).join(', ');
    this.upsertSql = `INSERT INTO ${name} (${writtenList}) SELECT * FROM unnest(${unnest}) ON CONFLICT (id) DO UPDATE SET ${sets}`;
    this.deleteSql = `DELETE FROM ${name} WHERE id = ANY($1::uuid[])`;
  }

  select(ids: string[]): { text: string; values: unknown[] } {
    return { text: this.selectSql, values: [ids] };
  }

  decode(row: Record<string, unknown>): { id: string; row: ServerRow } {
    const values: DxRow = {};
    for (const col of this.table.columns) values[col.name] = pgToDx(col, row[col.name]);
    const updatedAt = pgToDx({ name: 'updated_at', type: 'timestamp' }, row.updated_at) as { $ts: string };
    return {
      id: String(row.id),
      row: {
        values,
        conflictOf: (row.sync_conflict_of as string | null) ?? null,
        version: Number(row.row_version),
        updatedAt: updatedAt.$ts,
      },
    };
  }

  upsert(rows: RowValues[]): { text: string; values: unknown[] } {
    // The rows' values were normalised when they were resolved (or read from Postgres): canonical.
    const columns = this.cols.map((col) =>
      rows.map((r) =>
        canonicalDxToPg(col, col.name === CONFLICT_OF.name ? r.conflictOf : r.values[col.name]),
      ),
    );
    columns.push(rows.map((r) => canonicalDxToPg(UPDATED_AT, { $ts: r.changedAt })));
    return { text: this.upsertSql, values: columns };
  }

  /** The last values of deleted rows, from their delete log rows, typed as the table's columns. */
  lastDeleted(ids: string[]): { text: string; values: unknown[] } {
    const text =
      `SELECT (jsonb_populate_record(NULL::${this.quotedName}, l.old_row)).* FROM unnest($1::uuid[]) AS r(id) ` +
      `CROSS JOIN LATERAL (SELECT old_row FROM sync_txn_log WHERE row_id = r.id AND table_name = $2 ` +
      `AND op = 'delete' AND old_row IS NOT NULL ORDER BY seq DESC LIMIT 1) l`;
    return { text, values: [ids, this.table.name] };
  }

  delete(ids: string[]): { text: string; values: unknown[] } {
    return { text: this.deleteSql, values: [ids] };
  }

  /** Unmarked rows outside `exclude` that hold one of `keys` (tuples in uniqueKey order). */
  keyHolders(keys: DxRow[], exclude: string[]): { text: string; values: unknown[] } {
    const keyCols = (this.table.uniqueKey ?? []).map(
      (n) => this.table.columns.find((c) => c.name === n) as ColumnDef,
    );
    const tuple = keyCols.map((c) => quoteIdent(c.name)).join(', ');
    const unnest = keyCols.map((c, i) => `$${i + 1}::${arrayType(c)}`).join(', ');
    const text =
      `SELECT id, ${tuple} FROM ${quoteIdent(this.table.name)} WHERE sync_conflict_of IS NULL ` +
      `AND (${tuple}) IN (SELECT * FROM unnest(${unnest})) AND NOT (id = ANY($${keyCols.length + 1}::uuid[]))`;
    const values: unknown[] = keyCols.map((c) => keys.map((k) => dxToPg(c, k[c.name])));
    values.push(exclude);
    return { text, values };
  }

  keyRow(row: Record<string, unknown>): { id: string; values: DxRow } {
    const values: DxRow = {};
    for (const name of this.table.uniqueKey ?? []) {
      const col = this.table.columns.find((c) => c.name === name) as ColumnDef;
      values[name] = pgToDx(col, row[name]);
    }
    return { id: String(row.id), values };
  }
}
