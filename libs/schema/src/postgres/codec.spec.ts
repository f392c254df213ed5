import { canonicalDxToPg, ColumnValueError, dxKey, dxToPg, normalizeDx, pgToDx } from './codec';
import type { ColumnDef } from '../types';

const dec: ColumnDef = { name: 'amount', type: 'decimal', precision: 6, scale: 2, nullable: true };
const ts: ColumnDef = { name: 'at', type: 'timestamp', nullable: true };
const int: ColumnDef = { name: 'n', type: 'integer', nullable: true };

describe('postgres codec', () => {
  it('keeps decimals exact and refuses what numeric(p,s) would round or overflow', () => {
    expect(dxToPg(dec, { $dec: '1234.50' })).toBe('1234.50');
    expect(normalizeDx(dec, { $dec: '7.5' })).toEqual({ $dec: '7.50' });
    expect(() => dxToPg(dec, { $dec: '1.005' })).toThrow(/more than 2 decimal places/);
    expect(() => dxToPg(dec, { $dec: '12345.00' })).toThrow(ColumnValueError);
    expect(dxKey(dec, { $dec: '1.50' })).toBe(dxKey(dec, { $dec: '1.5' }));
  });

  it('normalises timestamps to UTC with microseconds kept', () => {
    expect(pgToDx(ts, '2024-03-01 10:00:00.123456+02')).toEqual({ $ts: '2024-03-01T08:00:00.123456Z' });
    expect(pgToDx(ts, '2024-03-01 10:00:00+00')).toEqual({ $ts: '2024-03-01T10:00:00.000Z' });
    expect(dxKey(ts, { $ts: '2024-03-01T08:00:00.5Z' })).toBe(
      dxKey(ts, { $ts: '2024-03-01T09:00:00.500+01:00' }),
    );
  });

  it('turns integers beyond 2^53 into $int and refuses non-integers', () => {
    expect(pgToDx(int, '9007199254740993')).toEqual({ $int: '9007199254740993' });
    expect(pgToDx(int, '42')).toBe(42);
    expect(() => dxToPg(int, 1.5)).toThrow(/expects an integer/);
  });

  it('refuses null in a required column and a date that does not exist', () => {
    expect(() => dxToPg({ name: 'x', type: 'text' }, null)).toThrow(/not nullable/);
    expect(() => dxToPg({ name: 'd', type: 'date' }, { $date: '2023-02-29' })).toThrow(ColumnValueError);
  });

  it('turns canonical values into the same parameters as the full conversion, and converts the rest', () => {
    const cols: Array<[ColumnDef, unknown]> = [
      [{ name: 'id', type: 'uuid' }, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'],
      [{ name: 'name', type: 'text' }, 'Acme \u00e9'],
      [{ name: 'won', type: 'boolean' }, false],
      [int, 42],
      [int, { $int: '9007199254740993' }],
      [dec, { $dec: '7.5' }],
      [{ name: 'd', type: 'date', nullable: true }, { $date: '2024-02-29' }],
      [ts, { $ts: '2024-03-01T10:00:00.123456+02:00' }],
      [ts, { $ts: '2024-03-01T10:00:00Z' }],
      [{ name: 'j', type: 'json', nullable: true }, { $json: [1, { a: 'b' }] }],
      [dec, null],
    ];
    for (const [col, value] of cols) {
      const canonical = normalizeDx(col, value as never);
      expect(canonicalDxToPg(col, canonical)).toEqual(dxToPg(col, canonical));
    }
    // Not canonical: a zone other than Z is still converted to UTC.
    expect(canonicalDxToPg(ts, { $ts: '2024-03-01T10:00:00.000+02:00' })).toBe('2024-03-01T08:00:00.000Z');
    expect(canonicalDxToPg(ts, { $ts: '2024-03-01 10:00:00.000Z' })).toBe('2024-03-01T10:00:00.000Z');
    expect(() => canonicalDxToPg({ name: 'x', type: 'text' }, null)).toThrow(/not nullable/);
    expect(() => canonicalDxToPg({ name: 'x', type: 'text' }, undefined)).toThrow(/not nullable/);
  });
});
