import type { DxRow, DxValue } from '@outpost/dx-format';
import { ColumnDef, TableDef } from '../types';

/** A value as better-sqlite3 binds or returns it for the column types the generator uses. */
export type SqliteValue = string | number | bigint | null;

/** A column value that cannot cross between SQLite and the wire; names the table and the column. */
export class SqliteValueError extends Error {
  readonly code = 'VALUE_INVALID';
  constructor(
    readonly table: string,
    readonly column: string,
    problem: string,
  ) {
    super(`${table}.${column}: ${problem}`);
    this.name = 'SqliteValueError';
  }
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const PLAUSIBLE_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?$/;
/** What canonicalTimestamp() produces; the download path meets it on nearly every value and skips the parse. */
const CANONICAL_TIMESTAMP =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.(\d{3}|\d{6})Z$/;

/** What canonicalDecimal() produces for a column (no "-0.00"), so canonical wire values pass untouched. */
function canonicalDecimalPattern(col: ColumnDef): RegExp {
  if (col.scale === undefined || col.precision === undefined) return /$^/;
  const intDigits = col.precision - col.scale;
  const int = intDigits > 0 ? `(0|[1-9]\\d{0,${intDigits - 1}})` : '0';
  const frac = col.scale > 0 ? `\\.\\d{${col.scale}}` : '';
  return new RegExp(`^(?!-0(\\.0*)?$)-?${int}${frac}$`);
}

type Fail = (problem: string) => never;

function show(v: unknown): string {
  const s = typeof v === 'bigint' ? `${v}` : JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Canonical decimal text: exactly `scale` fraction digits, rounded half away from zero as Postgres numeric does. */
export function canonicalDecimal(
  text: string,
  precision: number | undefined,
  scale: number | undefined,
): string | null {
  const m = DECIMAL.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  let int = m[2].replace(/^0+/, '');
  let frac = m[3] ?? '';
  if (scale !== undefined) {
    if (frac.length > scale) {
      const roundUp = frac.charCodeAt(scale) >= 53; // '5'
      const kept = int + frac.slice(0, scale);
      const digits = roundUp ? incrementDigits(kept) : kept;
      int = digits.slice(0, digits.length - scale).replace(/^0+/, '');
      frac = digits.slice(digits.length - scale);
    }
    frac = frac.padEnd(scale, '0');
    if (precision !== undefined && int.length > precision - scale) return null;
  }
  const body = `${int || '0'}${frac ? `.${frac}` : ''}`;
  const zero = /^[0.]*$/.test(body);
  return m[1] === '-' && !zero ? `-${body}` : body;
}

function incrementDigits(digits: string): string {
  const out = digits.split('');
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] === '9') out[i] = '0';
    else {
      out[i] = String.fromCharCode(out[i].charCodeAt(0) + 1);
      return out.join('');
    }
  }
  return `1${out.join('')}`;
}

/** ISO-8601 UTC with at least milliseconds, microseconds when present; a value without a zone is UTC. */
export function canonicalTimestamp(text: string): string | null {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h = '0', mi = '0', s = '0'] = [m[1], m[2], m[3], m[4], m[5], m[6]];
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  const check = new Date(ms);
  if (check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d || +h > 23 || +mi > 59 || +s > 59)
    return null;
  let offsetMin = 0;
  const zone = m[8];
  if (zone && zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMin = (zone[0] === '-' ? -1 : 1) * (+digits.slice(0, 2) * 60 + +(digits.slice(2) || '0'));
  }
  const base = new Date(ms - offsetMin * 60_000).toISOString().slice(0, 19);
  const micros = (m[7] ?? '').padEnd(6, '0').slice(0, 6);
  return `${base}.${micros.endsWith('000') ? micros.slice(0, 3) : micros}Z`;
}

function isValidDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

function tagged<K extends string>(v: DxValue, key: K): unknown {
  return v !== null && typeof v === 'object' && key in v ? (v as Record<K, unknown>)[key] : undefined;
}

type ToDx = (v: unknown, fail: Fail) => DxValue;
type FromDx = (v: DxValue, fail: Fail) => SqliteValue;

function toDxFor(col: ColumnDef): ToDx {
  switch (col.type) {
    case 'uuid':
      return (v, fail) => (typeof v === 'string' && UUID.test(v) ? v : fail(`${show(v)} is not a UUID`));
    case 'text':
      return (v, fail) =>
        typeof v === 'string'
          ? v
          : typeof v === 'number' || typeof v === 'bigint'
            ? `${v}`
            : fail(`${show(v)} is not text`);
    case 'integer':
      return (v, fail) => {
        if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
        if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : { $int: `${v}` };
        return fail(`${show(v)} is not an integer`);
      };
    case 'decimal':
      return (v, fail) => {
        const dec =
          typeof v === 'string' || typeof v === 'number'
            ? canonicalDecimal(`${v}`, col.precision, col.scale)
            : null;
        return dec === null
          ? fail(`${show(v)} is not a decimal(${col.precision},${col.scale})`)
          : { $dec: dec };
      };
    case 'boolean':
      return (v, fail) => {
        if (v === 1 || v === 1n || v === true) return true;
        if (v === 0 || v === 0n || v === false) return false;
        return fail(`${show(v)} is not a boolean (0 or 1)`);
      };
    case 'date':
      return (v, fail) =>
        typeof v === 'string' && isValidDate(v)
          ? { $date: v }
          : fail(`${show(v)} is not a date (YYYY-MM-DD)`);
    case 'timestamp':
      return (v, fail) => {
        const ts = typeof v === 'string' ? canonicalTimestamp(v) : null;
        return ts === null ? fail(`${show(v)} is not an ISO-8601 timestamp`) : { $ts: ts };
      };
    case 'json':
      return (v, fail) => {
        if (typeof v !== 'string') return fail(`${show(v)} is not a JSON document`);
        try {
          return { $json: JSON.parse(v) as unknown };
        } catch {
          return fail(`${show(v)} is not a JSON document`);
        }
      };
  }
}

function fromDxFor(col: ColumnDef): FromDx {
  switch (col.type) {
    case 'uuid':
      return (v, fail) => (typeof v === 'string' && UUID.test(v) ? v : fail(`${show(v)} is not a UUID`));
    case 'text':
      return (v, fail) => (typeof v === 'string' ? v : fail(`${show(v)} is not text`));
    case 'integer':
      return (v, fail) => {
        if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
        const big = tagged(v, '$int');
        if (typeof big === 'string' && /^-?\d+$/.test(big)) return BigInt(big);
        return fail(`${show(v)} is not an integer`);
      };
    case 'decimal': {
      const canonical = canonicalDecimalPattern(col);
      return (v, fail) => {
        const raw = tagged(v, '$dec') ?? v;
        if (typeof raw === 'string' && canonical.test(raw)) return raw;
        const dec =
          typeof raw === 'string' || typeof raw === 'number'
            ? canonicalDecimal(`${raw}`, col.precision, col.scale)
            : null;
        return dec === null ? fail(`${show(v)} is not a decimal(${col.precision},${col.scale})`) : dec;
      };
    }
    case 'boolean':
      return (v, fail) => (v === true ? 1 : v === false ? 0 : fail(`${show(v)} is not a boolean`));
    case 'date':
      // The column's CHECK (date(x) = x) refuses a day the month lacks; this stays cheap per downloaded row.
      return (v, fail) => {
        const raw = tagged(v, '$date') ?? v;
        return typeof raw === 'string' && PLAUSIBLE_DATE.test(raw)
          ? raw
          : fail(`${show(v)} is not a date (YYYY-MM-DD)`);
      };
    case 'timestamp':
      return (v, fail) => {
        const raw = tagged(v, '$ts') ?? v;
        if (typeof raw === 'string' && CANONICAL_TIMESTAMP.test(raw)) return raw;
        const ts = typeof raw === 'string' ? canonicalTimestamp(raw) : null;
        return ts === null ? fail(`${show(v)} is not an ISO-8601 timestamp`) : ts;
      };
    case 'json':
      return (v, fail) => {
        if (v === null || typeof v !== 'object' || !('$json' in v))
          return fail(`${show(v)} is not a {$json} value`);
        return JSON.stringify(v.$json);
      };
  }
}

/** A wire value as an SQLite literal of the column's storage (a column default in DDL). */
export function sqliteLiteral(col: ColumnDef, value: DxValue): string {
  const v = fromDxFor(col)(value, (problem) => {
    throw new SqliteValueError('(default)', col.name, problem);
  });
  if (v === null) return 'NULL';
  return typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v);
}

export interface SqliteColumnCodec {
  column: ColumnDef;
  /** SQLite (or captured JSON) value to wire value; null stays null, a NOT NULL column refuses it. */
  toDx(v: unknown): DxValue;
  /** Wire value to the value to bind. */
  fromDx(v: DxValue | undefined): SqliteValue;
}

export function sqliteColumnCodec(table: TableDef, col: ColumnDef): SqliteColumnCodec {
  const fail: Fail = (problem) => {
    throw new SqliteValueError(table.name, col.name, problem);
  };
  const toDx = toDxFor(col);
  const fromDx = fromDxFor(col);
  const nullable = col.nullable === true;
  return {
    column: col,
    toDx: (v) =>
      v === null || v === undefined
        ? nullable
          ? null
          : fail('is null but the column is NOT NULL')
        : toDx(v, fail),
    fromDx: (v) =>
      v === null || v === undefined
        ? nullable
          ? null
          : fail('is null but the column is NOT NULL')
        : fromDx(v, fail),
  };
}

/** Codecs for every column of a table (business then sync columns), built once and reused per row. */
export class SqliteTableCodec {
  readonly columns: SqliteColumnCodec[];
  private readonly byName: Map<string, SqliteColumnCodec>;

  constructor(readonly table: TableDef) {
    this.columns = table.allColumns.map((c) => sqliteColumnCodec(table, c));
    this.byName = new Map(this.columns.map((c) => [c.column.name, c]));
  }

  column(name: string): SqliteColumnCodec {
    const codec = this.byName.get(name);
    if (!codec) throw new SqliteValueError(this.table.name, name, 'is not a column of the table');
    return codec;
  }

  /**
   * The business columns of a captured row as wire values. A column the row does not name was added
   * after the change was captured: it stays out, and the server gives it the column's default.
   */
  rowToDx(row: Record<string, unknown>): DxRow {
    const out: DxRow = {};
    for (const col of this.table.columns)
      if (col.name in row) out[col.name] = this.column(col.name).toDx(row[col.name]);
    return out;
  }

  /** Values for `allColumns` in order; a column missing from the row binds null. */
  rowFromDx(row: DxRow): SqliteValue[] {
    return this.columns.map((c) => c.fromDx(row[c.column.name]));
  }
}
