import { Schema, TableDef } from '../types';
import { CONTROL_TABLE, LOG_TABLE } from './sqlite-ddl';

/**
 * Capture runs in the writer's own transaction, whoever the writer is, so a change and its log entry
 * commit or roll back together. The agent suppresses capture while it applies a download by setting
 * `_outpost_control.applying` inside its apply transaction; no other connection ever sees it set.
 * Every subquery or function call here is paid on every write of the laptop application, hence no
 * user lookup (the agent stamps the user when it extracts) and no formatted clock.
 */
const CAPTURING = `(SELECT applying FROM ${CONTROL_TABLE} WHERE id = 1) = 0`;
/** Needs SQLite 3.42+ ('subsec'); strftime() formatting would cost a tenth of the write. */
const NOW = "unixepoch('subsec')";

function businessColumns(table: TableDef): string[] {
  return table.columns.map((c) => c.name);
}

/** Columns an update can change: business columns but the id (which may not change at all). */
function mutableColumns(table: TableDef): string[] {
  return businessColumns(table).filter((c) => c !== 'id');
}

export function sqliteTriggerNames(table: TableDef): string[] {
  const t = table.name;
  return [`_outpost_${t}_id_fixed`, `_outpost_${t}_insert`, `_outpost_${t}_update`, `_outpost_${t}_delete`];
}

/** The capture triggers of one table, and the guard that keeps row ids stable (the sync addresses rows by id). */
export function sqliteTableTriggers(table: TableDef): string[] {
  const t = table.name;
  const [idFixed, onInsert, onUpdate, onDelete] = sqliteTriggerNames(table);
  const rowJson = `json_object(${businessColumns(table)
    .map((c) => `'${c}', NEW.${c}`)
    .join(', ')})`;
  const mutable = mutableColumns(table);
  const changed = mutable.map((c) => `OLD.${c} IS NOT NEW.${c}`).join(' OR ');
  // Only the changed columns, without a subquery: concatenate fragments and drop the leading comma.
  const changesJson =
    "'{' || substr(" +
    mutable
      .map(
        (c) =>
          `CASE WHEN OLD.${c} IS NOT NEW.${c} THEN ',"${c}":' || json_object('old', OLD.${c}, 'new', NEW.${c}) ELSE '' END`,
      )
      .join(' || ') +
    ", 2) || '}'";
  const cols = 'at, table_name, row_id, op';
  const triggers = [
    `CREATE TRIGGER IF NOT EXISTS ${idFixed} BEFORE UPDATE OF id ON ${t}
WHEN NEW.id IS NOT OLD.id
BEGIN
  SELECT RAISE(ABORT, 'outpost: the id of a synced row cannot change (table ${t}); insert a new row and delete the old one instead');
END`,
    `CREATE TRIGGER IF NOT EXISTS ${onInsert} AFTER INSERT ON ${t}
WHEN ${CAPTURING}
BEGIN
  INSERT INTO ${LOG_TABLE} (${cols}, row_json, base_version)
  VALUES (${NOW}, '${t}', NEW.id, 'insert', ${rowJson}, NEW.row_version);
END`,
  ];
  // A table of ids only has nothing to update.
  if (mutable.length > 0) {
    triggers.push(`CREATE TRIGGER IF NOT EXISTS ${onUpdate} AFTER UPDATE ON ${t}
WHEN ${CAPTURING} AND (${changed})
BEGIN
  INSERT INTO ${LOG_TABLE} (${cols}, changes_json, base_version)
  VALUES (${NOW}, '${t}', NEW.id, 'update', ${changesJson}, OLD.row_version);
END`);
  }
  triggers.push(`CREATE TRIGGER IF NOT EXISTS ${onDelete} AFTER DELETE ON ${t}
WHEN ${CAPTURING}
BEGIN
  INSERT INTO ${LOG_TABLE} (${cols}, base_version)
  VALUES (${NOW}, '${t}', OLD.id, 'delete', OLD.row_version);
END`);
  return triggers;
}

export function sqliteSchemaTriggers(schema: Schema): string[] {
  return schema.tables.flatMap(sqliteTableTriggers);
}
