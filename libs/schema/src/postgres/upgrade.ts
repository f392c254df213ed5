import type { SchemaStep } from '../history';
import type { Schema, TableDef } from '../types';
import { postgresColumnDdl, postgresIndexDdl, postgresIndexesDdl, postgresTableDdl, quoteIdent } from './ddl';
import { CAPTURE_PUBLICATION } from './replication';

/**
 * What makes a new synced table captured: the version trigger (the only trigger left on synced
 * tables), the whole old row in the stream (REPLICA IDENTITY FULL), and membership of the capture
 * publication, which the replication stream follows from the next transaction on.
 */
export function postgresTableCaptureDdl(table: TableDef): string[] {
  const name = quoteIdent(table.name);
  return [
    `CREATE TRIGGER ${quoteIdent(`${table.name}_sync_version`)} BEFORE UPDATE ON ${name} FOR EACH ROW EXECUTE FUNCTION sync_bump_version()`,
    `ALTER TABLE ${name} REPLICA IDENTITY FULL`,
    `ALTER PUBLICATION ${quoteIdent(CAPTURE_PUBLICATION)} ADD TABLE ${name}`,
  ];
}

/** Every synced table of a schema created at its version in an empty database, captured. */
export function postgresCreateSchemaDdl(schema: Schema): string[] {
  return [
    ...schema.tables.flatMap((t) => postgresTableDdl(schema, t)),
    ...schema.tables.flatMap(postgresTableCaptureDdl),
  ];
}

/**
 * The server's statements to `after` from the version before it, for one transaction: each
 * step's DDL (a new table captured like the others), then the lookup indexes a changed visibility
 * rule needs. Adding a column with a default fills the rows that exist without a change in the
 * stream; the router's partial re-extract sends them to the laptops. The stream carries a table's
 * new shape with its next change (pgoutput sends the relation again).
 */
export function postgresUpgradeDdl(after: Schema, steps: readonly SchemaStep[]): string[] {
  const out: string[] = [];
  const tableOf = (name: string) => {
    const table = after.table(name);
    if (!table) throw new Error(`table "${name}" is not in ${after.name} v${after.version}`);
    return table;
  };
  for (const step of steps) {
    if ('addTable' in step) {
      const table = tableOf(step.addTable.name);
      out.push(...postgresTableDdl(after, table), ...postgresTableCaptureDdl(table));
    } else if ('addColumn' in step) {
      const { table, column } = step.addColumn;
      out.push(`ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${postgresColumnDdl(column)}`);
    } else if ('addIndex' in step)
      out.push(postgresIndexDdl(tableOf(step.addIndex.table), step.addIndex.columns));
    else if ('dropColumn' in step) {
      const { table, column } = step.dropColumn;
      out.push(`ALTER TABLE ${quoteIdent(table)} DROP COLUMN ${quoteIdent(column)}`);
    }
  }
  for (const table of after.tables) out.push(...postgresIndexesDdl(after, table));
  return out;
}
