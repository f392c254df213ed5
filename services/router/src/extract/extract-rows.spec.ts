import { checkTransaction, type DxUpsert } from '@outpost/dx-format';
import { defineSchema, pgToDx } from '@outpost/schema';
import { ExtractRows, type ExtractRowText } from './extract-rows';

const schema = defineSchema({
  name: 'kinds',
  version: 1,
  tables: [
    {
      name: 'item',
      columns: [
        { name: 'id', type: 'uuid' },
        { name: 'label', type: 'text', nullable: true },
        { name: 'active', type: 'boolean', nullable: true },
        { name: 'qty', type: 'integer', nullable: true },
        { name: 'price', type: 'decimal', precision: 12, scale: 2, nullable: true },
        { name: 'due', type: 'date', nullable: true },
        { name: 'seen_at', type: 'timestamp', nullable: true },
        { name: 'extra', type: 'json', nullable: true },
      ],
      visibility: [{ everyone: true }],
    },
  ],
});
const table = schema.table('item')!;
const ID = '0b5f3c1e-8a4d-4e2b-9c7a-3d2e1f0a9b8c';
const AT = '2026-11-29T10:00:00.000Z';

/** Postgres's text output for the select list: id, row_version, then allColumns. */
function fetched(values: Record<string, string | null>): ExtractRowText {
  return [ID, '7', ...table.allColumns.map((c) => (c.name in values ? values[c.name] : null))];
}

function decode(row: ExtractRowText, seq = 2): DxUpsert {
  const tx = JSON.parse(new ExtractRows(table).line(seq, JSON.stringify(AT), row)) as DxUpsert;
  checkTransaction(tx, 'download', 0);
  return tx;
}

describe('ExtractRows', () => {
  it('writes an upsert line that validates, with every value as the Postgres codec reads it', () => {
    const values = {
      id: ID,
      label: 'quote " back\\slash \n line – ünïcode',
      active: 't',
      qty: '-42',
      price: '1234.50',
      due: '2027-03-15',
      seen_at: '2026-11-29T09:08:07.123456',
      extra: '{"a": [1, 2, {"b": null}]}',
      row_version: '7',
      updated_at: '2026-11-29T09:08:07.120000',
      sync_conflict_of: null,
    };
    const tx = decode(fetched(values));
    expect(tx).toMatchObject({ seq: 2, at: AT, user: '', table: 'item', id: ID, op: 'upsert', version: 7 });
    expect(tx.row).toEqual({
      id: ID,
      label: values.label,
      active: true,
      qty: -42,
      price: { $dec: '1234.50' },
      due: { $date: '2027-03-15' },
      seen_at: { $ts: '2026-11-29T09:08:07.123456Z' },
      extra: { $json: { a: [1, 2, { b: null }] } },
      row_version: 7,
      updated_at: { $ts: '2026-11-29T09:08:07.120Z' },
      sync_conflict_of: null,
    });
    // The same values through the codec the routing path uses (it reads timestamps with an offset).
    const viaCodec = Object.fromEntries(
      table.allColumns
        .filter((c) => !['extra', 'seen_at', 'updated_at', 'sync_conflict_of'].includes(c.name))
        .map((c) => [c.name, pgToDx(c, c.type === 'boolean' ? true : values[c.name as keyof typeof values])]),
    );
    expect(tx.row).toMatchObject(viaCodec);
  });

  it('writes nulls, false, the row id as the conflict mark, and integers past 2^53 as $int', () => {
    const tx = decode(
      fetched({
        id: ID,
        active: 'f',
        qty: '9007199254740993',
        row_version: '-9007199254740991',
        updated_at: '2026-01-01T00:00:00.000000',
        sync_conflict_of: ID,
      }),
    );
    expect(tx.row).toMatchObject({
      label: null,
      active: false,
      qty: { $int: '9007199254740993' },
      price: null,
      due: null,
      seen_at: null,
      extra: null,
      row_version: -9007199254740991,
      updated_at: { $ts: '2026-01-01T00:00:00.000Z' },
      sync_conflict_of: ID,
    });
  });

  it('selects id and row_version first, then every column in table order', () => {
    const list = new ExtractRows(table).selectList;
    expect(list.startsWith('t.id, t.row_version, t."id", t."label"')).toBe(true);
    expect(list).toContain(`to_char(t."due", 'YYYY-MM-DD')`);
    expect(list).toContain('CASE WHEN t."sync_conflict_of" IS NULL THEN NULL ELSE t."id" END');
  });
});
