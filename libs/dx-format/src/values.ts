import { DxErrorCode, DxErrorLocation, DxFormatError } from './errors';
import { DxBigInt, DxDate, DxDecimal, DxJson, DxTimestamp, DxValue } from './types';

const DECIMAL_RE = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;
const INTEGER_RE = /^-?(?:0|[1-9][0-9]*)$/;
const DATE_RE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
/** Looser input form accepted by `ts()`: any zone offset, space or T, up to 9 fractional digits. */
const TIMESTAMP_INPUT_RE =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(Z|[+-][0-9]{2}(?::?[0-9]{2})?)$/i;
const MAX_JSON_DEPTH = 512;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Strings must be valid Unicode: UTF-8 (the wire, SQLite, Postgres) cannot carry an unpaired surrogate. */
const isWellFormed: (s: string) => boolean = Function.prototype.call.bind(
  (String.prototype as unknown as { isWellFormed: () => boolean }).isWellFormed,
);

export function isDxDecimal(v: unknown): v is DxDecimal {
  return isTagged(v, '$dec') && typeof v.$dec === 'string';
}
export function isDxDate(v: unknown): v is DxDate {
  return isTagged(v, '$date') && typeof v.$date === 'string';
}
export function isDxTimestamp(v: unknown): v is DxTimestamp {
  return isTagged(v, '$ts') && typeof v.$ts === 'string';
}
export function isDxBigInt(v: unknown): v is DxBigInt {
  return isTagged(v, '$int') && typeof v.$int === 'string';
}
export function isDxJson(v: unknown): v is DxJson {
  return isTagged(v, '$json');
}

function isTagged<K extends string>(v: unknown, key: K): v is Record<K, unknown> {
  return typeof v === 'object' && v !== null && Object.prototype.hasOwnProperty.call(v, key);
}

/** An exact decimal, kept as its digits: `dec('1250000.00')`. Trailing zeros are kept (they carry the scale). */
export function dec(value: string | bigint): DxDecimal {
  const text = typeof value === 'bigint' ? value.toString() : value;
  const problem = decimalProblem(text);
  if (problem) throw new DxFormatError(DxErrorCode.InvalidValue, problem);
  return { $dec: text };
}

/** A calendar date `YYYY-MM-DD`. */
export function date(value: string): DxDate {
  const problem = dateProblem(value);
  if (problem) throw new DxFormatError(DxErrorCode.InvalidValue, problem);
  return { $date: value };
}

/**
 * A timestamp, normalised to UTC `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`. Accepts a Date, or an ISO-8601 / Postgres
 * text timestamp with any zone offset; fractional digits are kept as written (at most 6 significant ones).
 */
export function ts(value: Date | string): DxTimestamp {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime()))
      throw new DxFormatError(DxErrorCode.InvalidValue, 'timestamp is an invalid Date');
    return { $ts: value.toISOString() };
  }
  if (!timestampProblem(value)) return { $ts: value };
  return { $ts: normaliseTimestamp(value) };
}

/**
 * An integer in its canonical DX form: a plain number when it is float64-safe, `{$int}` otherwise.
 * Accepts a bigint, a decimal digit string or a safe integer number.
 */
export function int(value: bigint | number | string): number | DxBigInt {
  let big: bigint;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new DxFormatError(
        DxErrorCode.InvalidValue,
        `${value} is not a safe integer; pass a bigint or a digit string to keep its exact value`,
      );
    }
    return value;
  }
  if (typeof value === 'string') {
    if (!INTEGER_RE.test(value))
      throw new DxFormatError(DxErrorCode.InvalidValue, `"${value}" is not an integer`);
    big = BigInt(value);
  } else {
    big = value;
  }
  return big > MAX_SAFE || big < -MAX_SAFE ? { $int: big.toString() } : Number(big);
}

/** An arbitrary JSON document (object, array, string, number, boolean or null). */
export function json(value: unknown): DxJson {
  const problem = jsonProblem(value, 0);
  if (problem) throw new DxFormatError(DxErrorCode.InvalidValue, `$json document: ${problem}`);
  return { $json: value };
}

/** Throws DxFormatError(INVALID_VALUE) naming the problem when `value` is not a valid DX value. */
export function validateValue(
  value: unknown,
  name = 'value',
  where?: DxErrorLocation,
): asserts value is DxValue {
  const problem = valueProblem(value);
  if (problem) throw new DxFormatError(DxErrorCode.InvalidValue, `${name}: ${problem}`, where);
}

/** Why `value` is not a DX value, or undefined when it is one. Hot path of reader and writer. */
export function valueProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return isWellFormed(value) ? undefined : 'string contains an unpaired UTF-16 surrogate';
    case 'number':
      return Number.isFinite(value) ? undefined : `number ${value} is not finite`;
    case 'boolean':
      return undefined;
    case 'object':
      return value === null ? undefined : taggedProblem(value);
    case 'undefined':
    case 'bigint':
    case 'function':
    case 'symbol':
      return `${typeof value} is not a DX value`;
  }
}

function taggedProblem(value: object): string | undefined {
  if (Array.isArray(value)) return 'an array is not a DX value; wrap JSON documents as {"$json": …}';
  let tag: string | undefined;
  for (const key in value) {
    if (tag !== undefined) return `a typed value has exactly one key, found "${tag}" and "${key}"`;
    tag = key;
  }
  const inner = (value as Record<string, unknown>)[tag ?? ''];
  switch (tag) {
    case '$dec':
      return typeof inner === 'string' ? decimalProblem(inner) : '$dec must be a string';
    case '$date':
      return typeof inner === 'string' ? dateProblem(inner) : '$date must be a string';
    case '$ts':
      return typeof inner === 'string' ? timestampProblem(inner) : '$ts must be a string';
    case '$int':
      return typeof inner === 'string' ? bigIntProblem(inner) : '$int must be a string';
    case '$json': {
      const problem = jsonProblem(inner, 0);
      return problem && `$json document: ${problem}`;
    }
    case undefined:
      return 'an empty object is not a DX value';
    default:
      return `unknown typed value {"${tag}": …}; expected one of $dec, $date, $ts, $int, $json`;
  }
}

function decimalProblem(text: string): string | undefined {
  return DECIMAL_RE.test(text)
    ? undefined
    : `"${clip(text)}" is not a decimal (digits, optional "-", optional ".digits")`;
}

function bigIntProblem(text: string): string | undefined {
  if (!INTEGER_RE.test(text)) return `$int "${clip(text)}" is not an integer`;
  const big = BigInt(text);
  if (big <= MAX_SAFE && big >= -MAX_SAFE) return `$int ${text} is float64-safe; write it as a plain number`;
  return undefined;
}

export function dateProblem(text: string): string | undefined {
  const m = DATE_RE.exec(text);
  if (!m || !isCalendarDate(+m[1], +m[2], +m[3])) return `"${clip(text)}" is not a date YYYY-MM-DD`;
  return undefined;
}

export function timestampProblem(text: string): string | undefined {
  return isUtcTimestamp(text)
    ? undefined
    : `"${clip(text)}" is not a UTC timestamp YYYY-MM-DDTHH:MM:SS[.ffffff]Z`;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z` of a real day and time, read by character codes: every transaction
 * carries at least one timestamp and a regex with capture groups here costs several times as much.
 */
function isUtcTimestamp(text: string): boolean {
  const n = text.length;
  // 20 without a fraction, 22 to 27 with one to six fraction digits.
  if (n !== 20 && (n < 22 || n > 27)) return false;
  if (
    text.charCodeAt(4) !== 0x2d || // -
    text.charCodeAt(7) !== 0x2d ||
    text.charCodeAt(10) !== 0x54 || // T
    text.charCodeAt(13) !== 0x3a || // :
    text.charCodeAt(16) !== 0x3a ||
    text.charCodeAt(n - 1) !== 0x5a // Z
  )
    return false;
  if (n > 20 && (text.charCodeAt(19) !== 0x2e || digitsAt(text, 20, n - 21) < 0)) return false; // .
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  return (
    hour >= 0 &&
    minute >= 0 &&
    second >= 0 &&
    isCalendarDate(digitsAt(text, 0, 4), digitsAt(text, 5, 2), digitsAt(text, 8, 2)) &&
    isClockTime(hour, minute, second)
  );
}

/** The number written by `length` ASCII digits at `start`, or -1 when one of them is not a digit. */
function digitsAt(text: string, start: number, length: number): number {
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function normaliseTimestamp(text: string): string {
  const m = TIMESTAMP_INPUT_RE.exec(text);
  if (!m || !isCalendarDate(+m[1], +m[2], +m[3]) || !isClockTime(+m[4], +m[5], +m[6])) {
    throw new DxFormatError(
      DxErrorCode.InvalidValue,
      `"${clip(text)}" is not an ISO-8601 timestamp with a zone`,
    );
  }
  const fraction = m[7] ?? '';
  if (fraction.length > 7 && !/^0+$/.test(fraction.slice(7))) {
    throw new DxFormatError(DxErrorCode.InvalidValue, `"${clip(text)}" has more than microsecond precision`);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(+m[1], +m[2] - 1, +m[3]);
  utc.setUTCHours(+m[4], +m[5] - zoneOffsetMinutes(m[8]), +m[6]);
  const normalised = `${utc.toISOString().slice(0, 19)}${fraction.slice(0, 7)}Z`;
  if (timestampProblem(normalised)) {
    throw new DxFormatError(
      DxErrorCode.InvalidValue,
      `"${clip(text)}" falls outside the years 0001-9999 in UTC`,
    );
  }
  return normalised;
}

function zoneOffsetMinutes(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (+digits.slice(0, 2) * 60 + +(digits.slice(2) || '0'));
}

function jsonProblem(value: unknown, depth: number): string | undefined {
  if (depth > MAX_JSON_DEPTH) return `nested deeper than ${MAX_JSON_DEPTH} levels`;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return valueProblem(value);
    case 'object': {
      if (value === null) return undefined;
      if (Array.isArray(value)) {
        for (const item of value) {
          const problem = jsonProblem(item, depth + 1);
          if (problem) return problem;
        }
        return undefined;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null)
        return 'contains a non-plain object (convert it to JSON data first)';
      for (const key in value) {
        if (!isWellFormed(key)) return 'a key contains an unpaired UTF-16 surrogate';
        const problem = jsonProblem((value as Record<string, unknown>)[key], depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    case 'undefined':
    case 'bigint':
    case 'function':
    case 'symbol':
      return `contains ${value === undefined ? 'undefined' : `a ${typeof value}`}, which JSON cannot carry`;
  }
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days =
    month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days;
}

function isClockTime(hour: number, minute: number, second: number): boolean {
  return hour < 24 && minute < 60 && second < 60;
}

/** Keeps error messages readable when a value is megabytes long. */
export function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
