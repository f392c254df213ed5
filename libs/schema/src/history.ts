import { defineSchema } from './define-schema';
import { SchemaError } from './schema-error';
import type { ColumnDef, Schema, SchemaDefInput, TableDefInput } from './types';

/**
 * One change from a schema version to the next. Every step keeps old laptops working until they
 * upgrade: a new column is nullable or has a default (an insert made under the older version takes
 * it), a column is dropped only in a version after the one that deprecated it.
 */
export type SchemaStep =
  | { addTable: TableDefInput }
  | { addColumn: { table: string; column: ColumnDef } }
  /** Replaces table properties other than its name and columns: visibility, conflict, write rules... */
  | { alterTable: { table: string; set: Partial<Omit<TableDefInput, 'name' | 'columns'>> } }
  | { addIndex: { table: string; columns: string[] } }
  | { deprecateColumn: { table: string; column: string } }
  | { dropColumn: { table: string; column: string } };

export interface SchemaVersionInput {
  version: number;
  /** What the version is for, in a sentence (shown by tools, kept in the guide). */
  note?: string;
  steps: SchemaStep[];
}

export interface SchemaHistoryInput {
  name: string;
  /** The oldest laptop version the server still accepts and upgrades; 1 unless set. */
  oldestSupported?: number;
  /** Version 1 first, then each next version; version 1's steps start from nothing. */
  versions: SchemaVersionInput[];
}

/** A schema and every version of it; the steps are the source, each version's definition is derived from them. */
export interface SchemaHistory {
  name: string;
  latest: Schema;
  oldestSupported: number;
  versions: readonly SchemaVersionInput[];
  /** The schema at `version`; throws SchemaError for a version the history does not have. */
  at(version: number): Schema;
  /** The versions after `from` up to `to` (inclusive), with their steps: what a laptop at `from` applies. */
  stepsBetween(from: number, to: number): SchemaVersionInput[];
}

/** The definition after `versions`' steps, starting from `base` (null: nothing); throws SchemaError listing every problem. */
export function applySchemaSteps(
  base: SchemaDefInput | null,
  name: string,
  versions: readonly SchemaVersionInput[],
): SchemaDefInput {
  let def: SchemaDefInput = base ? structuredClone(base) : { name, version: 0, tables: [] };
  for (const v of versions) {
    const problems: string[] = [];
    if (v.version !== def.version + 1)
      problems.push(`version ${v.version} follows version ${def.version}; versions go up by one`);
    if (v.steps.length === 0) problems.push(`version ${v.version} has no steps`);
    const next: SchemaDefInput = { name: def.name, version: v.version, tables: structuredClone(def.tables) };
    for (const step of v.steps) applyStep(next, step, `version ${v.version}`, problems);
    if (problems.length > 0) throw new SchemaError(problems);
    defineSchema(next);
    def = next;
  }
  return def;
}

function applyStep(def: SchemaDefInput, step: SchemaStep, where: string, problems: string[]): void {
  const tableOf = (name: string): TableDefInput | undefined => {
    const table = def.tables.find((t) => t.name === name);
    if (!table) problems.push(`${where}: table "${name}" does not exist`);
    return table;
  };
  const columnOf = (table: TableDefInput, name: string): ColumnDef | undefined => {
    const col = table.columns.find((c) => c.name === name);
    if (!col) problems.push(`${where}: table "${table.name}" has no column "${name}"`);
    return col;
  };
  if ('addTable' in step) {
    if (def.tables.some((t) => t.name === step.addTable.name))
      problems.push(`${where}: table "${step.addTable.name}" already exists`);
    else def.tables.push(structuredClone(step.addTable));
  } else if ('addColumn' in step) {
    const { table: name, column } = step.addColumn;
    const table = tableOf(name);
    if (!table) return;
    if (table.columns.some((c) => c.name === column.name))
      problems.push(`${where}: table "${name}" already has a column "${column.name}"`);
    else if (!column.nullable && column.default === undefined)
      problems.push(
        `${where}: new column "${name}.${column.name}" must be nullable or have a default, so rows that exist and changes made under the older version still fit`,
      );
    else table.columns.push(structuredClone(column));
  } else if ('alterTable' in step) {
    const table = tableOf(step.alterTable.table);
    if (table) Object.assign(table, structuredClone(step.alterTable.set));
  } else if ('addIndex' in step) {
    const table = tableOf(step.addIndex.table);
    if (table) table.indexes = [...(table.indexes ?? []), [...step.addIndex.columns]];
  } else if ('deprecateColumn' in step) {
    const table = tableOf(step.deprecateColumn.table);
    const col = table && columnOf(table, step.deprecateColumn.column);
    if (col) col.deprecated = true;
  } else if ('dropColumn' in step) {
    const table = tableOf(step.dropColumn.table);
    const col = table && columnOf(table, step.dropColumn.column);
    if (!table || !col) return;
    if (!col.deprecated) {
      problems.push(
        `${where}: column "${table.name}.${col.name}" is dropped without an earlier version deprecating it`,
      );
      return;
    }
    const used = [...(table.uniqueKey ?? []), ...(table.indexes ?? []).flat()].includes(col.name);
    if (used) problems.push(`${where}: column "${table.name}.${col.name}" is still in a key or an index`);
    table.columns = table.columns.filter((c) => c !== col);
  } else {
    problems.push(`${where}: unknown step ${JSON.stringify(step)}`);
  }
}

/** Validates every version of a history (each one a valid schema) and returns it. */
export function defineSchemaHistory(input: SchemaHistoryInput): SchemaHistory {
  const byVersion = new Map<number, Schema>();
  let def: SchemaDefInput | null = null;
  for (const v of input.versions) {
    try {
      def = applySchemaSteps(def, input.name, [v]);
    } catch (err) {
      if (err instanceof SchemaError)
        throw new SchemaError(err.problems.map((p) => `schema "${input.name}" ${p}`));
      throw err;
    }
    byVersion.set(v.version, defineSchema(def));
  }
  const latest = byVersion.get(input.versions.length);
  if (!latest) throw new SchemaError([`schema "${input.name}" has no versions`]);
  const oldestSupported = input.oldestSupported ?? 1;
  if (!Number.isInteger(oldestSupported) || oldestSupported < 1 || oldestSupported > latest.version)
    throw new SchemaError([
      `schema "${input.name}": oldestSupported must be between 1 and ${latest.version}`,
    ]);
  return {
    name: input.name,
    latest,
    oldestSupported,
    versions: input.versions,
    at(version) {
      const schema = byVersion.get(version);
      if (!schema)
        throw new SchemaError([`schema "${input.name}" has no version ${version} (1 to ${latest.version})`]);
      return schema;
    },
    stepsBetween(from, to) {
      return input.versions.filter((v) => v.version > from && v.version <= to);
    },
  };
}

/**
 * Tables whose rows a client must receive again after an upgrade across `versions`: new tables,
 * tables with new columns, and every table when a visibility rule changed (a rule decides for the
 * tables that follow it too). The router sends them as a partial re-extract.
 */
export function tablesToRefresh(schema: Schema, versions: readonly SchemaVersionInput[]): string[] {
  const names = new Set<string>();
  for (const step of versions.flatMap((v) => v.steps)) {
    if ('addTable' in step) names.add(step.addTable.name);
    else if ('addColumn' in step) names.add(step.addColumn.table);
    else if ('alterTable' in step && step.alterTable.set.visibility !== undefined)
      for (const t of schema.tables) names.add(t.name);
  }
  return schema.tables.map((t) => t.name).filter((n) => names.has(n));
}

/** Columns some version of the history dropped: an older laptop's change may still name them. */
export function droppedColumns(versions: readonly SchemaVersionInput[], table: string): Set<string> {
  const out = new Set<string>();
  for (const step of versions.flatMap((v) => v.steps))
    if ('dropColumn' in step && step.dropColumn.table === table) out.add(step.dropColumn.column);
  return out;
}
