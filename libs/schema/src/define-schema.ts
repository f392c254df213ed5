import { ColumnValueError, normalizeDx } from './postgres/codec';
import { SchemaError } from './schema-error';
import {
  ColumnDef,
  ColumnType,
  Schema,
  SchemaDefInput,
  SYNC_COLUMNS,
  TableDef,
  TableDefInput,
  VisibilityRule,
  WriteRules,
} from './types';

const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;
const COLUMN_TYPES: readonly ColumnType[] = [
  'uuid',
  'text',
  'integer',
  'decimal',
  'boolean',
  'date',
  'timestamp',
  'json',
];
const RESERVED = new Set(SYNC_COLUMNS.map((c) => c.name));

/** Validates a schema definition and returns the resolved schema; throws SchemaError listing every problem. */
export function defineSchema(input: SchemaDefInput): Schema {
  const problems: string[] = [];
  if (!IDENTIFIER.test(input.name)) problems.push(`schema name "${input.name}" must match ${IDENTIFIER}`);
  if (!Number.isInteger(input.version) || input.version < 1)
    problems.push('schema version must be a positive integer');
  if (input.tables.length === 0) problems.push('a schema needs at least one table');

  const seen = new Map<string, TableDefInput>();
  for (const table of input.tables) {
    checkTable(table, problems);
    if (seen.has(table.name)) problems.push(`table "${table.name}" is defined twice`);
    seen.set(table.name, table);
  }
  for (const table of input.tables) checkVisibility(table, seen, problems);
  if (problems.length > 0) throw new SchemaError(problems);

  // Spread first: properties other parts of the definition add (such as write rules) carry through.
  const tables: TableDef[] = input.tables.map((t) => ({
    ...t,
    conflict: { update: t.conflict?.update ?? 'server-wins', delete: t.conflict?.delete ?? 'delete-wins' },
    uniqueKey: t.uniqueKey && t.uniqueKey.length > 0 ? t.uniqueKey : null,
    write: writeRules(t),
    indexes: t.indexes ?? [],
    allColumns: [...t.columns, ...SYNC_COLUMNS],
  }));
  const byName = new Map(tables.map((t) => [t.name, t]));
  return {
    name: input.name,
    version: input.version,
    tables,
    table: (name) => byName.get(name),
    definition: structuredClone(input),
  };
}

function writeRules(table: TableDefInput): WriteRules {
  const reference = table.visibility.some((rule) => 'everyone' in rule);
  const allowed = !reference;
  return {
    insert: table.write?.insert ?? allowed,
    update: table.write?.update ?? allowed,
    delete: table.write?.delete ?? allowed,
    handOff: table.write?.handOff ?? false,
  };
}

function checkTable(table: TableDefInput, problems: string[]): void {
  const where = `table "${table.name}"`;
  if (!IDENTIFIER.test(table.name) || table.name.startsWith('sync_')) {
    problems.push(`${where}: name must match ${IDENTIFIER} and not start with sync_`);
  }
  const first = table.columns[0];
  if (!first || first.name !== 'id' || first.type !== 'uuid')
    problems.push(`${where}: the first column must be "id" of type uuid`);
  const names = new Set<string>();
  for (const col of table.columns) {
    checkColumn(where, col, problems);
    if (names.has(col.name)) problems.push(`${where}: column "${col.name}" is defined twice`);
    names.add(col.name);
  }
  for (const key of table.uniqueKey ?? []) {
    if (!names.has(key)) problems.push(`${where}: uniqueKey names unknown column "${key}"`);
  }
  for (const [flag, value] of Object.entries(table.write ?? {})) {
    if (!['insert', 'update', 'delete', 'handOff'].includes(flag))
      problems.push(`${where}: write has unknown flag "${flag}" (insert, update, delete, handOff)`);
    else if (typeof value !== 'boolean') problems.push(`${where}: write.${flag} must be true or false`);
  }
  for (const index of table.indexes ?? []) {
    if (index.length === 0) problems.push(`${where}: an index needs at least one column`);
    for (const col of index)
      if (!names.has(col))
        problems.push(`${where}: index (${index.join(', ')}) names unknown column "${col}"`);
  }
  const policy = table.conflict;
  if (policy?.update && !['server-wins', 'client-wins', 'latest-wins'].includes(policy.update)) {
    problems.push(
      `${where}: conflict.update must be server-wins, client-wins or latest-wins, not "${policy.update}"`,
    );
  }
  if (policy?.delete && !['delete-wins', 'resurrect'].includes(policy.delete)) {
    problems.push(`${where}: conflict.delete must be delete-wins or resurrect, not "${policy.delete}"`);
  }
}

function checkColumn(where: string, col: ColumnDef, problems: string[]): void {
  if (!IDENTIFIER.test(col.name))
    problems.push(`${where}: column name "${col.name}" must match ${IDENTIFIER}`);
  if (RESERVED.has(col.name)) problems.push(`${where}: column "${col.name}" is reserved for the sync`);
  if (!COLUMN_TYPES.includes(col.type)) {
    problems.push(
      `${where}: column "${col.name}" has unknown type "${col.type}" (one of ${COLUMN_TYPES.join(', ')})`,
    );
  }
  if (col.default !== undefined) {
    if (col.name === 'id') problems.push(`${where}: column "id" cannot have a default`);
    else if (col.default === null)
      problems.push(`${where}: column "${col.name}" has a null default; leave it out`);
    else {
      try {
        normalizeDx(col, col.default);
      } catch (err) {
        if (!(err instanceof ColumnValueError)) throw err;
        problems.push(`${where}: the default of column "${col.name}" ${err.problem}`);
      }
    }
  }
  if (col.type === 'decimal') {
    const { precision, scale } = col;
    if (precision === undefined || scale === undefined || scale < 0 || precision < 1 || scale > precision) {
      problems.push(
        `${where}: decimal column "${col.name}" needs precision >= 1 and 0 <= scale <= precision`,
      );
    }
  }
}

function checkVisibility(table: TableDefInput, tables: Map<string, TableDefInput>, problems: string[]): void {
  const where = `table "${table.name}" visibility`;
  if (table.visibility.length === 0)
    problems.push(`${where}: needs at least one rule ({ everyone: true } for reference data)`);
  const has = (t: string | undefined, c: string, type?: ColumnType): boolean => {
    const def = t === undefined ? undefined : tables.get(t);
    const col = def?.columns.find((x) => x.name === c);
    return col !== undefined && (type === undefined || col.type === type);
  };
  for (const rule of table.visibility) {
    for (const problem of ruleProblems(table.name, rule, tables, has)) problems.push(`${where}: ${problem}`);
  }
}

function ruleProblems(
  self: string,
  rule: VisibilityRule,
  tables: Map<string, TableDefInput>,
  has: (table: string | undefined, column: string, type?: ColumnType) => boolean,
): string[] {
  if ('everyone' in rule) return rule.everyone === true ? [] : ['everyone must be true'];
  if ('userColumn' in rule)
    return has(self, rule.userColumn, 'text')
      ? []
      : [`userColumn "${rule.userColumn}" is not a text column of ${self}`];
  if ('via' in rule) {
    const { table, fk, userColumn } = rule.via;
    if (!tables.has(table)) return [`via names unknown table "${table}"`];
    const out: string[] = [];
    if (!has(table, fk, 'uuid')) out.push(`via fk "${fk}" is not a uuid column of ${table}`);
    if (!has(table, userColumn, 'text'))
      out.push(`via userColumn "${userColumn}" is not a text column of ${table}`);
    return out;
  }
  if ('parent' in rule) {
    const { table, fk } = rule.parent;
    if (!tables.has(table)) return [`parent names unknown table "${table}"`];
    if (table === self) return ['parent cannot be the table itself'];
    return has(self, fk, 'uuid') ? [] : [`parent fk "${fk}" is not a uuid column of ${self}`];
  }
  if ('referencedBy' in rule) {
    const { table, fk } = rule.referencedBy;
    if (!tables.has(table)) return [`referencedBy names unknown table "${table}"`];
    if (table === self) return ['referencedBy cannot be the table itself'];
    return has(table, fk, 'uuid') ? [] : [`referencedBy fk "${fk}" is not a uuid column of ${table}`];
  }
  return [`unknown rule ${JSON.stringify(rule)}`];
}
