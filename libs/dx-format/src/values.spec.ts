import { DxErrorCode, DxFormatError } from './errors';
import {
  date,
  dec,
  int,
  isDxBigInt,
  isDxDate,
  isDxDecimal,
  isDxJson,
  isDxTimestamp,
  json,
  ts,
  validateValue,
} from './values';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof DxFormatError ? error.code : `not a DxFormatError: ${String(error)}`;
  }
  return undefined;
}

describe('value helpers', () => {
  it('keeps decimals as their exact digits, scale included', () => {
    expect(dec('1.50')).toEqual({ $dec: '1.50' });
    expect(dec('-123456789012345678901234567890.000000001')).toEqual({
      $dec: '-123456789012345678901234567890.000000001',
    });
    expect(dec(10n ** 30n)).toEqual({ $dec: '1000000000000000000000000000000' });
    for (const bad of ['1,50', '1e5', '.5', '5.', '+1', '01.5', '', ' 1', 'NaN']) {
      expect(codeOf(() => dec(bad))).toBe(DxErrorCode.InvalidValue);
    }
  });

  it('accepts calendar dates only', () => {
    expect(date('2024-02-29')).toEqual({ $date: '2024-02-29' });
    for (const bad of [
      '2023-02-29',
      '2024-13-01',
      '2024-04-31',
      '0000-01-01',
      '2024-1-01',
      '2024-01-01T00:00:00Z',
    ]) {
      expect(codeOf(() => date(bad))).toBe(DxErrorCode.InvalidValue);
    }
  });

  it('normalises timestamps to UTC without losing microseconds', () => {
    expect(ts(new Date(Date.UTC(2024, 4, 1, 8, 0, 0, 123)))).toEqual({ $ts: '2024-05-01T08:00:00.123Z' });
    expect(ts('2024-05-01T08:00:00.123456Z')).toEqual({ $ts: '2024-05-01T08:00:00.123456Z' });
    expect(ts('2024-05-01 10:30:00.123456+02:30')).toEqual({ $ts: '2024-05-01T08:00:00.123456Z' });
    expect(ts('2024-01-01T00:30:00-01')).toEqual({ $ts: '2024-01-01T01:30:00Z' });
    expect(ts('2024-12-31T23:30:00.5-01:00')).toEqual({ $ts: '2025-01-01T00:30:00.5Z' });
    expect(ts('2024-05-01T08:00:00.123456000Z')).toEqual({ $ts: '2024-05-01T08:00:00.123456Z' });
    for (const bad of [
      '2024-05-01T08:00:00',
      '2024-05-01T24:00:00Z',
      '2024-05-01T08:00:00.1234567Z',
      '0001-01-01T00:30:00+01:00',
    ]) {
      expect(codeOf(() => ts(bad))).toBe(DxErrorCode.InvalidValue);
    }
    expect(codeOf(() => ts(new Date(NaN)))).toBe(DxErrorCode.InvalidValue);
  });

  it('encodes integers canonically: plain numbers when float64-safe, $int beyond', () => {
    expect(int(42)).toBe(42);
    expect(int('-9007199254740991')).toBe(-9007199254740991);
    expect(int(9007199254740992n)).toEqual({ $int: '9007199254740992' });
    expect(int('-123456789012345678901234567890')).toEqual({ $int: '-123456789012345678901234567890' });
    expect(codeOf(() => int(2 ** 60))).toBe(DxErrorCode.InvalidValue);
    expect(codeOf(() => int(1.5))).toBe(DxErrorCode.InvalidValue);
    expect(codeOf(() => int('12a'))).toBe(DxErrorCode.InvalidValue);
  });

  it('wraps JSON documents and refuses what JSON cannot carry', () => {
    expect(json({ a: [1, 'ü', null] })).toEqual({ $json: { a: [1, 'ü', null] } });
    expect(codeOf(() => json({ when: new Date() }))).toBe(DxErrorCode.InvalidValue);
    expect(codeOf(() => json({ n: NaN }))).toBe(DxErrorCode.InvalidValue);
    expect(codeOf(() => json([undefined]))).toBe(DxErrorCode.InvalidValue);
    let deep: unknown = 1;
    for (let i = 0; i < 600; i++) deep = [deep];
    expect(codeOf(() => json(deep))).toBe(DxErrorCode.InvalidValue);
  });

  it('guards recognise each typed value', () => {
    expect([
      isDxDecimal(dec('1')),
      isDxDate(date('2024-01-01')),
      isDxTimestamp(ts(new Date(0))),
      isDxBigInt(int(2n ** 64n)),
      isDxJson(json(null)),
    ]).toEqual([true, true, true, true, true]);
    expect([isDxDecimal('1'), isDxDate({ $dec: '1' }), isDxJson(null), isDxBigInt({ $int: 1 })]).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('validateValue', () => {
  it.each([
    ['a string', 'héllo 😀'],
    ['an empty string', ''],
    ['a finite number', -1.5e300],
    ['a boolean', false],
    ['null', null],
    ['a decimal', { $dec: '-0.001' }],
    ['a JSON array document', { $json: [1, { b: null }] }],
    ['a JSON null document', { $json: null }],
  ])('accepts %s', (_what, value) => {
    expect(() => validateValue(value)).not.toThrow();
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['undefined', undefined],
    ['a bigint', 5n],
    ['an array', [1, 2]],
    ['an empty object', {}],
    ['an unknown tag', { $money: '1' }],
    ['two tags', { $dec: '1', $int: '2' }],
    ['a numeric $dec', { $dec: 1.5 }],
    ['a safe $int', { $int: '42' }],
    ['a zoned $ts', { $ts: '2024-05-01T08:00:00+02:00' }],
    ['an unpaired surrogate', 'a\ud800b'],
    ['a Date', new Date(0)],
  ])('refuses %s with INVALID_VALUE naming the column', (_what, value) => {
    expect(() => validateValue(value, 'row column "amount"')).toThrow(
      expect.objectContaining({ code: DxErrorCode.InvalidValue, message: expect.stringContaining('amount') }),
    );
  });
});
