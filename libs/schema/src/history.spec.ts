import Database from 'better-sqlite3';
import { fieldServiceHistory } from './field-service.schema';
import {
  applySchemaSteps,
  defineSchemaHistory,
  droppedColumns,
  tablesToRefresh,
  type SchemaHistoryInput,
} from './history';
import { postgresUpgradeDdl } from './postgres/upgrade';
import { compileVisibility } from './postgres/visibility';
import { selectSchema } from './registry';
import { salesHistory } from './sales.schema';
import { SchemaError } from './schema-error';
import { LOG_TABLE, sqliteSchemaDdl, sqliteSchemaTriggers, sqliteUpgradeDdl } from './sqlite';

const shop = (): SchemaHistoryInput => ({
  name: 'shop',
  versions: [
    {
      version: 1,
      steps: [
        {
          addTable: {
            name: 'customer',
            columns: [
              { name: 'id', type: 'uuid' },
              { name: 'name', type: 'text' },
              { name: 'fax', type: 'text', nullable: true },
              { name: 'rep_login', type: 'text' },
            ],
            visibility: [{ userColumn: 'rep_login' }],
          },
        },
      ],
    },
    {
      version: 2,
      steps: [
        { addColumn: { table: 'customer', column: { name: 'tier', type: 'text', default: 'bronze' } } },
        { deprecateColumn: { table: 'customer', column: 'fax' } },
        {
          addTable: {
            name: 'visit',
            columns: [
              { name: 'id', type: 'uuid' },
              { name: 'customer_id', type: 'uuid' },
              { name: 'on_day', type: 'date', nullable: true },
            ],
            visibility: [{ parent: { table: 'customer', fk: 'customer_id' } }],
          },
        },
      ],
    },
    {
      version: 3,
      steps: [
        { dropColumn: { table: 'customer', column: 'fax' } },
        { addIndex: { table: 'visit', columns: ['on_day'] } },
      ],
    },
  ],
});

function problemsOf(input: SchemaHistoryInput): string[] {
  try {
    defineSchemaHistory(input);
  } catch (err) {
    if (err instanceof SchemaError) return err.problems;
    throw err;
  }
  throw new Error('expected a SchemaError');
}

describe('schema history', () => {
  it('derives each version from the steps', () => {
    const history = defineSchemaHistory(shop());
    expect(history.latest.version).toBe(3);
    expect(
      history
        .at(1)
        .table('customer')
        ?.columns.map((c) => c.name),
    ).toEqual(['id', 'name', 'fax', 'rep_login']);
    expect(
      history
        .at(2)
        .table('customer')
        ?.columns.find((c) => c.name === 'fax')?.deprecated,
    ).toBe(true);
    expect(
      history
        .at(3)
        .table('customer')
        ?.columns.map((c) => c.name),
    ).toEqual(['id', 'name', 'rep_login', 'tier']);
    expect(history.at(3).table('visit')?.indexes).toEqual([['on_day']]);
    expect(history.stepsBetween(1, 3).map((v) => v.version)).toEqual([2, 3]);
    expect(() => history.at(4)).toThrow(/has no version 4/);
  });

  it('applies steps to a stored definition the way the history derives it', () => {
    const history = defineSchemaHistory(shop());
    const def = applySchemaSteps(history.at(1).definition, 'shop', history.stepsBetween(1, 3));
    expect(def).toEqual(history.latest.definition);
  });

  it('refuses steps that would strand an older laptop, listing every problem', () => {
    const input = shop();
    input.versions[1].steps.push({
      addColumn: { table: 'customer', column: { name: 'vat', type: 'text' } },
    });
    input.versions[1].steps.push({ dropColumn: { table: 'customer', column: 'name' } });
    input.versions[1].steps.push({
      addColumn: { table: 'nowhere', column: { name: 'x', type: 'text', nullable: true } },
    });
    const problems = problemsOf(input);
    expect(problems).toEqual([
      expect.stringMatching(/new column "customer.vat" must be nullable or have a default/),
      expect.stringMatching(/"customer.name" is dropped without an earlier version deprecating it/),
      expect.stringMatching(/table "nowhere" does not exist/),
    ]);
  });

  it('refuses a default of the wrong type and versions out of order', () => {
    const input = shop();
    input.versions[1].steps[0] = {
      addColumn: { table: 'customer', column: { name: 'tier', type: 'integer', default: 'bronze' } },
    };
    expect(problemsOf(input).join('\n')).toMatch(/default of column "tier"/);
    const gap = shop();
    gap.versions[2].version = 4;
    expect(problemsOf(gap).join('\n')).toMatch(/version 4 follows version 2/);
  });

  it('names the tables a laptop must receive again and the columns older files may still carry', () => {
    const history = defineSchemaHistory(shop());
    expect(tablesToRefresh(history.latest, history.stepsBetween(1, 3))).toEqual(['customer', 'visit']);
    expect(tablesToRefresh(history.latest, history.stepsBetween(2, 3))).toEqual([]);
    expect([...droppedColumns(history.versions, 'customer')]).toEqual(['fax']);
    const ruled = defineSchemaHistory({
      ...shop(),
      versions: [
        ...shop().versions,
        {
          version: 4,
          steps: [{ alterTable: { table: 'visit', set: { visibility: [{ everyone: true }] } } }],
        },
      ],
    });
    expect(ruled.latest.table('visit')?.visibility).toEqual([{ everyone: true }]);
    expect(tablesToRefresh(ruled.latest, ruled.stepsBetween(3, 4))).toEqual(['customer', 'visit']);
    expect(tablesToRefresh(salesHistory.latest, salesHistory.stepsBetween(1, 3))).toEqual([
      'contact',
      'opportunity',
      'activity',
    ]);
  });

  it('selects a schema by name or name@version', () => {
    expect(selectSchema('sales').version).toBe(salesHistory.latest.version);
    expect(selectSchema('sales@1').schema.table('activity')).toBeUndefined();
    expect(selectSchema('field_service').schema.table('work_order')).toBeDefined();
    expect(() => selectSchema('sales@9')).toThrow(/versions 1 to 3/);
    expect(() => selectSchema('crm')).toThrow(/unknown schema "crm"/);
  });

  it('ships a field-service example whose visibility compiles, with reference data for everyone', () => {
    const schema = fieldServiceHistory.latest;
    expect(compileVisibility(schema).tableOrder).toEqual([
      'part',
      'site',
      'work_order',
      'visit',
      'part_used',
    ]);
    expect(schema.table('part')?.visibility).toEqual([{ everyone: true }]);
    // Extracts bind the user login as $1 whatever the rules, reference data included.
    expect(compileVisibility(schema).inverseIdsSql('part')).toMatch(/\$1/);
  });
});

describe('upgrade DDL', () => {
  it('upgrades a laptop store in place: rows kept, defaults filled, new columns captured, dropped ones gone', () => {
    const history = defineSchemaHistory(shop());
    const db = new Database(':memory:');
    for (const sql of [...sqliteSchemaDdl(history.at(1)), ...sqliteSchemaTriggers(history.at(1))])
      db.exec(sql);
    db.exec(
      "INSERT INTO customer (id, name, fax, rep_login) VALUES ('00000000-0000-4000-8000-000000000001', 'Acme', '555', 'ann')",
    );
    const steps = history.stepsBetween(1, 3).flatMap((v) => v.steps);
    db.transaction(() => {
      for (const sql of sqliteUpgradeDdl(history.at(1), history.latest, steps)) db.exec(sql);
    })();
    expect(db.prepare('SELECT * FROM customer').get()).toMatchObject({ name: 'Acme', tier: 'bronze' });
    expect(db.prepare('SELECT * FROM customer').get()).not.toHaveProperty('fax');
    db.exec("UPDATE customer SET tier = 'gold'");
    db.exec("INSERT INTO visit (customer_id) VALUES ('00000000-0000-4000-8000-000000000001')");
    const log = db
      .prepare(`SELECT table_name, op, changes_json FROM ${LOG_TABLE} ORDER BY seq`)
      .all() as Array<{
      table_name: string;
      op: string;
      changes_json: string | null;
    }>;
    expect(log.map((e) => `${e.table_name} ${e.op}`)).toEqual([
      'customer insert',
      'customer update',
      'visit insert',
    ]);
    expect(JSON.parse(log[1].changes_json ?? '{}')).toEqual({ tier: { old: 'bronze', new: 'gold' } });
  });

  it('writes the server statements of a version', () => {
    const history = defineSchemaHistory(shop());
    const ddl = postgresUpgradeDdl(history.at(2), history.stepsBetween(1, 2)[0].steps);
    expect(ddl).toContain(`ALTER TABLE "customer" ADD COLUMN "tier" text DEFAULT 'bronze'::text NOT NULL`);
    expect(ddl.some((s) => s.startsWith('CREATE TABLE "visit"'))).toBe(true);
    expect(ddl).toContain('ALTER PUBLICATION "outpost_sync" ADD TABLE "visit"');
    expect(ddl).toContain('ALTER TABLE "visit" REPLICA IDENTITY FULL');
    const v3 = postgresUpgradeDdl(history.at(3), history.stepsBetween(2, 3)[0].steps);
    expect(v3).toContain('ALTER TABLE "customer" DROP COLUMN "fax"');
    expect(v3).toContain('CREATE INDEX IF NOT EXISTS "visit_on_day_idx" ON "visit" ("on_day")');
  });
});
