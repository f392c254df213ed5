import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LocalStore } from '@outpost/client-agent';
import { salesHistory, salesSchema, sqliteSchemaDdl } from '@outpost/schema';
import { insertLocal, updateLocal } from '../fixtures/agents';
import { salesRows } from '../fixtures/rows';
import { main } from '../harness/main';
import { figure, ratioTarget, repeat, type Scenario } from '../harness/scenario';
import { perSecond } from '../harness/stats';

const ROWS_PER_TXN = 1000;

function timeWrites(db: Database.Database, rows: ReturnType<typeof salesRows>): number {
  const started = performance.now();
  insertLocal(db, rows, ROWS_PER_TXN);
  updateLocal(db, rows, ' (edited)', ROWS_PER_TXN);
  return performance.now() - started;
}

/** Local writes through the capture triggers against the same writes into the same tables without them. */
export const captureScenario: Scenario = {
  name: 'capture',
  title: 'client capture',
  services: false,
  defaults: { warmup: 1, repetitions: 5 },
  async run(ctx) {
    const n = ctx.sizes.captureRows;
    const dir = ctx.env.tempDir('capture');
    const samples = await repeat(ctx, 'client capture', async (i) => {
      const rows = salesRows(n, 'capture-user', `cap${i}`);
      const store = LocalStore.open(join(dir, `captured-${i}.db`), salesHistory);
      let capturedMs: number;
      try {
        capturedMs = timeWrites(store.db, rows);
        const logged = (store.db.prepare('SELECT count(*) AS n FROM _outpost_log').get() as { n: number }).n;
        if (logged !== 2 * n) throw new Error(`capture logged ${logged} changes for ${2 * n} writes`);
      } finally {
        store.close();
      }
      const plain = new Database(join(dir, `plain-${i}.db`));
      let plainMs: number;
      try {
        plain.pragma('journal_mode = WAL');
        plain.pragma('synchronous = NORMAL');
        for (const sql of sqliteSchemaDdl(salesSchema)) plain.exec(sql);
        plainMs = timeWrites(plain, rows);
      } finally {
        plain.close();
      }
      return { captured: perSecond(2 * n, capturedMs), plain: perSecond(2 * n, plainMs) };
    });
    const f = figure(
      { label: 'rows/s', unit: 'rows/s', higherIsBetter: true },
      samples.map((s) => s.captured),
      {
        label: 'same writes into the same tables without capture triggers',
        samples: samples.map((s) => s.plain),
      },
    );
    return {
      sizes: { inserts: n, updates: n, rowsPerTransaction: ROWS_PER_TXN },
      figures: [f],
      target: ratioTarget(f, 0.6),
      notes: [],
    };
  },
};

if (require.main === module) void main([captureScenario]);
