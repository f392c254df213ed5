import type { SchemaStep } from '../history';
import type { Schema } from '../types';
import { sqliteColumnDdl, sqliteIndexesDdl, sqliteTableDdl } from './sqlite-ddl';
import { sqliteSchemaTriggers, sqliteTriggerNames } from './sqlite-triggers';

/**
 * The laptop's statements from `before` to `after` (one or more versions later), for one local
 * transaction: the capture triggers go first (they list the columns, and SQLite will not drop a
 * column a trigger names), then each step's DDL, then the triggers of the new definition. A new
 * column with a default fills the rows already there, as the server's ALTER does.
 */
export function sqliteUpgradeDdl(before: Schema, after: Schema, steps: readonly SchemaStep[]): string[] {
  const out = before.tables.flatMap((t) => sqliteTriggerNames(t).map((n) => `DROP TRIGGER IF EXISTS ${n}`));
  for (const step of steps) {
    if ('addTable' in step) {
      const table = after.table(step.addTable.name);
      if (!table) throw new Error(`table "${step.addTable.name}" is not in ${after.name} v${after.version}`);
      out.push(sqliteTableDdl(table), ...sqliteIndexesDdl(table));
    } else if ('addColumn' in step) {
      out.push(`ALTER TABLE ${step.addColumn.table} ADD COLUMN ${sqliteColumnDdl(step.addColumn.column)}`);
    } else if ('addIndex' in step) {
      const { table, columns } = step.addIndex;
      out.push(
        `CREATE INDEX IF NOT EXISTS ${table}_${columns.join('_')}_idx ON ${table} (${columns.join(', ')})`,
      );
    } else if ('dropColumn' in step) {
      out.push(`ALTER TABLE ${step.dropColumn.table} DROP COLUMN ${step.dropColumn.column}`);
    }
  }
  out.push(...sqliteSchemaTriggers(after));
  return out;
}
