import { defineSchema } from '../define-schema';
import { salesSchema } from '../sales.schema';
import type { Schema, TableDef } from '../types';
import { compileVisibility, VisibilityCompileError } from './visibility';

const id = { name: 'id', type: 'uuid' } as const;

describe('compileVisibility', () => {
  it('derives the sales dependencies from the rules', () => {
    const plan = compileVisibility(salesSchema);
    expect(plan.tableOrder).toEqual(['account', 'contact', 'opportunity', 'opportunity_team', 'activity']);
    expect(plan.fkDependencies).toEqual([
      { kind: 'referencedBy', source: 'opportunity', fk: 'account_id', target: 'account' },
      { kind: 'via', source: 'opportunity_team', fk: 'opportunity_id', target: 'opportunity' },
    ]);
    expect(plan.childCascades).toEqual([
      { parent: 'account', child: 'contact', fk: 'account_id' },
      { parent: 'opportunity', child: 'opportunity_team', fk: 'opportunity_id' },
      { parent: 'opportunity', child: 'activity', fk: 'opportunity_id' },
    ]);
  });

  it('builds the inverse CTEs with the tables a rule reads first', () => {
    const sql = compileVisibility(salesSchema).inverseIdsSql('contact');
    const pos = (name: string) => sql.indexOf(`"vis_${name}" AS (`);
    expect(pos('opportunity')).toBeGreaterThanOrEqual(0);
    expect(pos('opportunity')).toBeLessThan(pos('account'));
    expect(pos('account')).toBeLessThan(pos('contact'));
    expect(sql).not.toContain('vis_opportunity_team');
  });

  it('recurses the forward SQL through parent and referencedBy rules', () => {
    const sql = compileVisibility(salesSchema).forwardClientsSql('contact');
    expect(sql).toContain('"opportunity_team"');
    expect(sql).toContain('$1::uuid[]');
    expect(sql).toContain('sync_client');
  });

  it('rejects a cycle through parent and referencedBy rules, naming the path', () => {
    const cyclic = defineSchema({
      name: 'cyclic',
      version: 1,
      tables: [
        {
          name: 'a',
          columns: [id, { name: 'b_id', type: 'uuid' }],
          visibility: [{ parent: { table: 'b', fk: 'b_id' } }],
        },
        {
          name: 'b',
          columns: [id, { name: 'a_id', type: 'uuid' }],
          visibility: [{ referencedBy: { table: 'a', fk: 'b_id' } }],
        },
      ],
    });
    expect(() => compileVisibility(cyclic)).toThrow(VisibilityCompileError);
    expect(() => compileVisibility(cyclic)).toThrow(/cycle: a -> b -> a/);
  });

  it('lists every unknown table and column of a hand-built schema', () => {
    const table = (
      def: Omit<TableDef, 'conflict' | 'uniqueKey' | 'allColumns' | 'write' | 'indexes'>,
    ): TableDef => ({
      ...def,
      write: { insert: true, update: true, delete: true, handOff: false },
      conflict: { update: 'server-wins', delete: 'delete-wins' },
      uniqueKey: null,
      indexes: [],
      allColumns: def.columns,
    });
    const tables = [
      table({ name: 'a', columns: [id], visibility: [{ parent: { table: 'missing', fk: 'x_id' } }] }),
      table({ name: 'b', columns: [id], visibility: [{ userColumn: 'owner' }] }),
    ];
    const schema: Schema = {
      name: 'bad',
      version: 1,
      tables,
      table: (n) => tables.find((t) => t.name === n),
      definition: { name: 'bad', version: 1, tables: [] },
    };
    let caught: unknown;
    try {
      compileVisibility(schema);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(VisibilityCompileError);
    expect((caught as VisibilityCompileError).problems).toEqual([
      'table "a" parent: unknown table "missing"',
      'table "a" parent: table "a" has no column "x_id"',
      'table "b": table "b" has no column "owner"',
    ]);
  });
});
