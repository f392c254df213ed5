import { defineSchema } from './define-schema';
import { salesSchema } from './sales.schema';
import { SchemaError } from './schema-error';
import type { SchemaDefInput } from './types';

const valid = (): SchemaDefInput => ({
  name: 'shop',
  version: 1,
  tables: [
    {
      name: 'customer',
      columns: [
        { name: 'id', type: 'uuid' },
        { name: 'name', type: 'text' },
        { name: 'rep_login', type: 'text' },
      ],
      visibility: [{ userColumn: 'rep_login' }],
    },
    {
      name: 'customer_note',
      columns: [
        { name: 'id', type: 'uuid' },
        { name: 'customer_id', type: 'uuid' },
        { name: 'body', type: 'text' },
      ],
      visibility: [{ parent: { table: 'customer', fk: 'customer_id' } }],
    },
  ],
});

function problemsOf(input: SchemaDefInput): string[] {
  try {
    defineSchema(input);
  } catch (err) {
    if (err instanceof SchemaError) return err.problems;
    throw err;
  }
  throw new Error('expected a SchemaError');
}

describe('defineSchema', () => {
  it('resolves defaults: server-wins, delete-wins, the sync columns after the business columns', () => {
    const schema = defineSchema(valid());
    const customer = schema.table('customer');
    expect(customer?.conflict).toEqual({ update: 'server-wins', delete: 'delete-wins' });
    expect(customer?.uniqueKey).toBeNull();
    expect(customer?.allColumns.map((c) => c.name)).toEqual([
      'id',
      'name',
      'rep_login',
      'row_version',
      'updated_at',
      'sync_conflict_of',
    ]);
    expect(schema.table('nope')).toBeUndefined();
  });

  it('lists every problem at once, each naming its table and column', () => {
    const input = valid();
    input.tables[0]!.columns.push(
      { name: 'row_version', type: 'integer' },
      { name: 'Bad Name', type: 'text' },
    );
    input.tables[0]!.columns.push({ name: 'price', type: 'decimal' });
    input.tables[0]!.visibility = [{ userColumn: 'missing_login' }];
    input.tables[1]!.visibility = [{ parent: { table: 'nowhere', fk: 'customer_id' } }];
    input.tables[1]!.conflict = { update: 'newest' as never };
    const problems = problemsOf(input);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/table "customer": column "row_version" is reserved/),
        expect.stringMatching(/table "customer": column name "Bad Name"/),
        expect.stringMatching(/decimal column "price" needs precision/),
        expect.stringMatching(/userColumn "missing_login" is not a text column of customer/),
        expect.stringMatching(/parent names unknown table "nowhere"/),
        expect.stringMatching(
          /conflict.update must be server-wins, client-wins or latest-wins, not "newest"/,
        ),
      ]),
    );
    expect(problems).toHaveLength(6);
  });

  it('requires a uuid id first, a rule per table, and known unique-key columns', () => {
    const input = valid();
    input.tables[0]!.columns[0] = { name: 'id', type: 'integer' };
    input.tables[0]!.uniqueKey = ['email'];
    input.tables[1]!.visibility = [];
    const problems = problemsOf(input);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/first column must be "id" of type uuid/),
        expect.stringMatching(/uniqueKey names unknown column "email"/),
        expect.stringMatching(/needs at least one rule/),
      ]),
    );
  });

  it('refuses a table defined twice and a table named like the sync tables', () => {
    const input = valid();
    input.tables.push({ ...input.tables[0]! }, { ...input.tables[0]!, name: 'sync_secret' });
    const problems = problemsOf(input);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/table "customer" is defined twice/),
        expect.stringMatching(/table "sync_secret": name must/),
      ]),
    );
  });

  it('ships a valid sales example with the policies the product promises', () => {
    expect(salesSchema.tables.map((t) => t.name)).toEqual([
      'account',
      'contact',
      'opportunity',
      'opportunity_team',
      'activity',
    ]);
    expect(salesSchema.table('opportunity')?.conflict).toEqual({
      update: 'server-wins',
      delete: 'delete-wins',
    });
    expect(salesSchema.table('account')?.conflict.update).toBe('client-wins');
    expect(salesSchema.table('contact')?.conflict).toEqual({ update: 'latest-wins', delete: 'resurrect' });
    expect(salesSchema.table('account')?.uniqueKey).toEqual(['name']);
    const amount = salesSchema.table('opportunity')?.columns.find((c) => c.name === 'amount');
    expect(amount).toMatchObject({ type: 'decimal', precision: 18, scale: 2 });
  });
});
