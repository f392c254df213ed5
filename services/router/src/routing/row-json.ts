import type { ColumnDef, TableDef } from '@outpost/schema';

/** JSON objects Postgres builds at most this many keys at once (its 100-argument limit). */
const KEYS_PER_OBJECT = 50;
const MAX_SAFE = '9007199254740991';

const q = (ident: string): string => `"${ident}"`;

/**
 * A SQL expression that builds the whole row as a DX row (typed values such as `{$dec}` included),
 * so the wire encoding happens once, in Postgres, and an extract of a million rows costs one JSON
 * parse per row in Node rather than a codec call per value.
 */
export function rowJsonSql(table: TableDef, alias: string): string {
  const pairs = table.allColumns.map((c) =>
    c.name === CONFLICT_OF
      ? `'${c.name}', ${conflictMarkSql(alias)}`
      : `'${c.name}', ${valueSql(c, `${alias}.${q(c.name)}`)}`,
  );
  if (pairs.length <= KEYS_PER_OBJECT) return `json_build_object(${pairs.join(', ')})`;
  const parts: string[] = [];
  for (let i = 0; i < pairs.length; i += KEYS_PER_OBJECT) {
    parts.push(`jsonb_build_object(${pairs.slice(i, i + KEYS_PER_OBJECT).join(', ')})`);
  }
  return `(${parts.join(' || ')})::json`;
}

const CONFLICT_OF = 'sync_conflict_of';

/**
 * A row kept as a duplicate business key reaches laptops marked with its own id, never with the id
 * of the row that holds the key: that row may be one the laptop cannot see. The laptop learns that
 * its row is a duplicate (the holder has the same key, which the laptop knows); which row holds the
 * key is for the administrator (`sync-admin conflicts list`) and for laptops that see it by its key.
 */
function conflictMarkSql(alias: string): string {
  return `CASE WHEN ${alias}.${q(CONFLICT_OF)} IS NULL THEN NULL ELSE ${alias}."id" END`;
}

function valueSql(col: ColumnDef, ref: string): string {
  const tagged = (tag: string, text: string) =>
    `CASE WHEN ${ref} IS NULL THEN NULL ELSE json_build_object('${tag}', ${text}) END`;
  switch (col.type) {
    case 'uuid':
    case 'text':
    case 'boolean':
      return ref;
    case 'integer':
      return `CASE WHEN ${ref} IS NULL THEN NULL WHEN ${ref} BETWEEN -${MAX_SAFE} AND ${MAX_SAFE} THEN to_json(${ref}) ELSE json_build_object('$int', ${ref}::text) END`;
    case 'decimal':
      return tagged('$dec', `${ref}::text`);
    case 'date':
      return tagged('$date', `to_char(${ref}, 'YYYY-MM-DD')`);
    case 'timestamp':
      // Milliseconds, or microseconds when there are any: the canonical form of the schema codecs.
      return tagged(
        '$ts',
        `regexp_replace(to_char(${ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '000$', '') || 'Z'`,
      );
    case 'json':
      return tagged('$json', ref);
  }
}

/**
 * A SQL expression for about how many bytes the row's DX JSON takes, read without building it:
 * `octet_length` of a text value reads the length from its TOAST pointer without fetching the
 * value, and other values are small (their stored size stands in). Escaping can make the JSON of
 * text longer than the text; the estimate bounds what a page of rows holds, not a hard limit.
 */
export function rowBytesSql(table: TableDef, alias: string): string {
  const terms = table.allColumns.map((c) => {
    const ref = `${alias}.${q(c.name)}`;
    const size = c.type === 'text' ? `octet_length(${ref})` : `pg_column_size(${ref})`;
    // Name, quotes, colon, comma and a typed value's tag.
    return `coalesce(${size}::bigint, 4) + ${c.name.length + 12}`;
  });
  return terms.join(' + ');
}
