import type { ColumnDef, TableDef } from '@outpost/schema';

const q = (ident: string): string => `"${ident}"`;
const CONFLICT_OF = 'sync_conflict_of';

/** A fetched extract row: `id`, `row_version`, then every column of `allColumns`, as Postgres's text output. */
export type ExtractRowText = Array<string | null>;

/**
 * One table's extract rows and how they become DX lines. Postgres hands every value over in its
 * text output (or formatted by `to_char`), and Node writes the DX line around it: building the row as
 * JSON in SQL (nested `json_build_object` per typed value) cost three times the plain read, and
 * parsing it in Node only to serialise it again cost as much once more. The encodings are those of
 * `rowJsonSql` and the Postgres codec (`pgToDx`); the spec checks the lines against `checkTransaction`.
 */
export class ExtractRows {
  /** Select list for alias `t`, in the order of `ExtractRowText`. */
  readonly selectList: string;
  private readonly prefix: string;
  private readonly encoders: Array<(text: string) => string>;
  private readonly keys: string[];

  constructor(table: TableDef) {
    const columns = table.allColumns;
    this.selectList = ['t.id', 't.row_version', ...columns.map(valueSql)].join(', ');
    this.prefix = `,"user":"","table":${JSON.stringify(table.name)},"id":`;
    this.encoders = columns.map((c) => (c.name === CONFLICT_OF ? JSON.stringify : encoder(c)));
    this.keys = columns.map((c, i) => `${i === 0 ? '{' : ','}${JSON.stringify(c.name)}:`);
  }

  /** The DX line (without newline) of an upsert of `row` at `seq`; `atJson` is the JSON string of the time. */
  line(seq: number, atJson: string, row: ExtractRowText): string {
    let out = `{"seq":${seq},"at":${atJson}${this.prefix}"${row[0] as string}","op":"upsert","version":${row[1] as string},"row":`;
    for (let i = 0; i < this.encoders.length; i++) {
      const text = row[i + 2];
      out += this.keys[i];
      out += text === null ? 'null' : this.encoders[i](text);
    }
    // allColumns always holds id, so the row object was opened by the first key.
    return `${out}}}`;
  }
}

function valueSql(col: ColumnDef): string {
  const ref = `t.${q(col.name)}`;
  // A duplicate business key reaches laptops marked with the row's own id (see rowJsonSql).
  if (col.name === CONFLICT_OF) return `CASE WHEN ${ref} IS NULL THEN NULL ELSE t."id" END`;
  switch (col.type) {
    case 'date':
      return `to_char(${ref}, 'YYYY-MM-DD')`;
    case 'timestamp':
      return `to_char(${ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
    case 'uuid':
    case 'text':
    case 'boolean':
    case 'integer':
    case 'decimal':
    case 'json':
      return ref;
  }
}

const MAX_SAFE_DIGITS = String(Number.MAX_SAFE_INTEGER).length;

/** The JSON of one non-null value, from Postgres's text output of the column type. */
function encoder(col: ColumnDef): (text: string) => string {
  switch (col.type) {
    case 'uuid':
    case 'text':
      return JSON.stringify;
    case 'boolean':
      return (text) => (text === 't' ? 'true' : 'false');
    case 'integer':
      // bigint's output is a canonical integer: a JSON number when it is safe, else {$int}.
      return (text) =>
        text.length < MAX_SAFE_DIGITS || Number.isSafeInteger(Number(text)) ? text : `{"$int":"${text}"}`;
    case 'decimal':
      return (text) => `{"$dec":${JSON.stringify(text)}}`;
    case 'date':
      return (text) => `{"$date":"${text}"}`;
    case 'timestamp':
      // Milliseconds, or microseconds when there are any: the canonical form of the schema codecs.
      return (text) => `{"$ts":"${text.endsWith('000') ? text.slice(0, -3) : text}Z"}`;
    case 'json':
      return (text) => `{"$json":${text}}`;
  }
}
