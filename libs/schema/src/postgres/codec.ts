import type { DxValue } from '@outpost/dx-format';
import type { ColumnDef } from '../types';

/**
 * Postgres values <-> DX values, per column type. node-postgres is configured (pgTypeParsers) to
 * hand numeric, bigint, date and timestamptz over as text, so nothing passes through a JS Date or
 * a float: decimals stay exact, dates have no time zone, timestamps keep their microseconds.
 */

/** A value that does not fit its column; `problem` says what is wrong in words. */
export class ColumnValueError extends Error {
  constructor(
    readonly column: string,
    readonly problem: string,
  ) {
    super(`column "${column}": ${problem}`);
    this.name = 'ColumnValueError';
  }
}

const OID = { int8: 20, numeric: 1700, date: 1082, timestamp: 1114, timestamptz: 1184 } as const;
const AS_TEXT = new Set<number>(Object.values(OID));

interface TypeParserSource {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown;
}

/** A `types` option for pg's Pool/Client: text for numeric, int8, date and timestamps; the defaults otherwise. */
export function pgTypeParsers(defaults: TypeParserSource): TypeParserSource {
  return {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (AS_TEXT.has(oid) && format !== 'binary') return (value: string) => value;
      return defaults.getTypeParser(oid, format);
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;
const INTEGER = /^[+-]?\d+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)$/i;
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

/** A value read from Postgres (with pgTypeParsers) as a DX value. */
export function pgToDx(col: ColumnDef, value: unknown): DxValue {
  if (value === null || value === undefined) return null;
  switch (col.type) {
    case 'uuid':
    case 'text':
      return String(value);
    case 'boolean':
      return Boolean(value);
    case 'integer': {
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : { $int: String(value) };
    }
    case 'decimal':
      // Postgres prints exactly `scale` fraction digits, as the client codec does.
      return { $dec: String(value) };
    case 'date':
      return { $date: String(value) };
    case 'timestamp':
      return { $ts: utcTimestamp(String(value)) };
    case 'json':
      return { $json: value };
  }
}

/**
 * A DX value as a query parameter for the column, after checking it has the column's type;
 * throws ColumnValueError otherwise. Parameters are text or JS primitives, never Dates.
 */
export function dxToPg(col: ColumnDef, value: DxValue | undefined): string | number | boolean | null {
  if (value === null || value === undefined) {
    if (col.nullable || col.name === 'sync_conflict_of') return null;
    throw new ColumnValueError(col.name, 'is null but the column is not nullable');
  }
  return presentToPg(col, value);
}

/**
 * dxToPg of a value already in its canonical form (what normalizeDx and pgToDx return): the write
 * path's rows were checked when they were normalised, so only a null's column and a timestamp's
 * zone are looked at again. A timestamp not in the canonical UTC form still goes through the full
 * conversion; any other value is the parameter as it stands.
 */
export function canonicalDxToPg(
  col: ColumnDef,
  value: DxValue | undefined,
): string | number | boolean | null {
  if (value === null || value === undefined) return dxToPg(col, value);
  switch (col.type) {
    case 'uuid':
    case 'text':
    case 'boolean':
      return typeof value === 'object' ? presentToPg(col, value) : value;
    case 'integer':
      return typeof value === 'number' ? value : presentToPg(col, value);
    case 'decimal': {
      const raw = (value as { $dec?: unknown }).$dec;
      return typeof raw === 'string' ? raw : presentToPg(col, value);
    }
    case 'date': {
      const raw = (value as { $date?: unknown }).$date;
      return typeof raw === 'string' ? raw : presentToPg(col, value);
    }
    case 'timestamp': {
      const raw = (value as { $ts?: unknown }).$ts;
      return typeof raw === 'string' && isCanonicalUtc(raw) ? raw : presentToPg(col, value);
    }
    case 'json':
      return presentToPg(col, value);
  }
}

/** "YYYY-MM-DDTHH:MM:SS.fffZ" or with six fraction digits: the form utcTimestamp writes. */
function isCanonicalUtc(raw: string): boolean {
  const n = raw.length;
  if ((n !== 24 && n !== 27) || raw.charCodeAt(n - 1) !== 90 /* Z */) return false;
  for (let i = 0; i < n - 1; i++) {
    const c = raw.charCodeAt(i);
    const shape = CANONICAL_UTC.charCodeAt(i);
    if (shape === 48 /* 0: a digit */ ? c < 48 || c > 57 : c !== shape) return false;
  }
  return true;
}

/** The canonical UTC timestamp's shape without its Z: 0 is any digit, the rest stands for itself. */
const CANONICAL_UTC = '0000-00-00T00:00:00.000000';

/** dxToPg of a value that is not null (no copy of the column to allow a null: this runs per value). */
function presentToPg(col: ColumnDef, value: Exclude<DxValue, null>): string | number | boolean {
  const wrong = (what: string) => new ColumnValueError(col.name, `expects ${what}, got ${describe(value)}`);
  switch (col.type) {
    case 'uuid':
      if (typeof value !== 'string' || !UUID.test(value)) throw wrong('a UUID string');
      return value.toLowerCase();
    case 'text':
      if (typeof value !== 'string') throw wrong('a string');
      if (value.includes('\u0000'))
        throw new ColumnValueError(col.name, 'contains a NUL character, which Postgres text cannot store');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw wrong('true or false');
      return value;
    case 'integer': {
      if (typeof value === 'number') {
        if (!Number.isSafeInteger(value)) throw wrong('an integer');
        return value;
      }
      const raw = (value as { $int?: unknown }).$int;
      if (typeof raw !== 'string' || !INTEGER.test(raw)) throw wrong('an integer or {$int: "digits"}');
      const big = BigInt(raw);
      if (big < INT8_MIN || big > INT8_MAX)
        throw new ColumnValueError(col.name, `${raw} is outside the 64-bit integer range`);
      return big.toString();
    }
    case 'decimal':
      return checkDecimal(col, value);
    case 'date': {
      const raw = (value as { $date?: unknown }).$date;
      if (typeof raw !== 'string' || !isCalendarDate(raw)) throw wrong('{$date: "YYYY-MM-DD"}');
      return raw;
    }
    case 'timestamp': {
      const raw = (value as { $ts?: unknown }).$ts;
      if (typeof raw !== 'string' || !TIMESTAMP.test(raw)) throw wrong('{$ts: "ISO-8601 with a zone"}');
      return utcTimestamp(raw);
    }
    case 'json':
      if (typeof value !== 'object' || !('$json' in value)) throw wrong('{$json: ...}');
      // Stringified here: node-postgres would turn a top-level array into a Postgres array literal.
      return JSON.stringify(value.$json);
  }
}

/**
 * A comparison key: equal keys mean equal values for the column (1.50 = 1.5, the same instant in
 * any zone, JSON with keys in any order). Throws ColumnValueError for a value of the wrong type.
 */
export function dxKey(col: ColumnDef, value: DxValue | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (col.type === 'json') return `j:${stableJson((value as { $json?: unknown }).$json)}`;
  const param = presentToPg(col, value);
  if (col.type === 'decimal') return `d:${decimalKey(String(param))}`;
  return `${col.type}:${String(param)}`;
}

/** The DX value as Postgres will give it back (decimals with `scale` digits, timestamps in UTC). */
export function normalizeDx(col: ColumnDef, value: DxValue | undefined): DxValue {
  if (value === null || value === undefined) return null;
  const param = presentToPg(col, value);
  switch (col.type) {
    case 'json':
      return value;
    case 'decimal':
      return { $dec: withScale(decimalKey(String(param)), col.scale ?? 0) };
    case 'timestamp':
      // Already in the UTC form Postgres gives back.
      return { $ts: param as string };
    case 'uuid':
    case 'text':
    case 'boolean':
    case 'integer':
    case 'date':
      return pgToDx(col, param);
  }
}

function withScale(canonical: string, scale: number): string {
  if (scale === 0) return canonical;
  const [int, fraction = ''] = canonical.split('.');
  return `${int}.${fraction.padEnd(scale, '0')}`;
}

function checkDecimal(col: ColumnDef, value: DxValue): string {
  let raw: string;
  if (typeof value === 'number' && Number.isSafeInteger(value)) raw = String(value);
  else if (value !== null && typeof value === 'object' && '$dec' in value && typeof value.$dec === 'string')
    raw = value.$dec;
  else throw new ColumnValueError(col.name, `expects {$dec: "digits"}, got ${describe(value)}`);
  const m = DECIMAL.exec(raw);
  if (!m) throw new ColumnValueError(col.name, `"${raw}" is not a decimal number`);
  const precision = col.precision ?? 18;
  const scale = col.scale ?? 0;
  const intDigits = m[2].replace(/^0+/, '').length;
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  if (fraction.length > scale) {
    throw new ColumnValueError(
      col.name,
      `"${raw}" has more than ${scale} decimal places; Postgres would round it`,
    );
  }
  if (intDigits > precision - scale) {
    throw new ColumnValueError(col.name, `"${raw}" does not fit numeric(${precision},${scale})`);
  }
  return raw;
}

function decimalKey(raw: string): string {
  const m = DECIMAL.exec(raw);
  if (!m) return raw;
  const int = m[2].replace(/^0+(?=\d)/, '');
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  const body = fraction ? `${int}.${fraction}` : int;
  return m[1] === '-' && /[1-9]/.test(body) ? `-${body}` : body;
}

function isCalendarDate(raw: string): boolean {
  const m = DATE.exec(raw);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/**
 * Any ISO-8601 or Postgres text timestamp with a zone -> "YYYY-MM-DDTHH:MM:SS.fff[fff]Z": at least
 * milliseconds, microseconds when present, the form the client codec writes too.
 */
function utcTimestamp(raw: string): string {
  const m = TIMESTAMP.exec(raw);
  if (!m) throw new ColumnValueError('timestamp', `"${raw}" is not a timestamp with a zone`);
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om, os] = m;
  const offsetSec = z
    ? 0
    : (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0));
  const ms =
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetSec * 1000;
  const base = new Date(ms).toISOString().slice(0, 19);
  const micros = (frac ?? '').padEnd(6, '0').slice(0, 6);
  return `${base}.${micros.endsWith('000') ? micros.slice(0, 3) : micros}Z`;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
