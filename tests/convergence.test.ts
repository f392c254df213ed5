/**
 * Randomized convergence: several laptops make random offline inserts, updates and deletes on a
 * shared set of rows and sync in a random order. After everyone syncs twice, every laptop holds
 * exactly the server's rows, and every value that lost a conflict is in the conflict record.
 *
 * Size: OUTPOST_CONVERGENCE_CLIENTS (3), OUTPOST_CONVERGENCE_ROUNDS (3), OUTPOST_CONVERGENCE_OPS (4)
 * per laptop per round. Replay a failure with OUTPOST_CONVERGENCE_SEED=<the printed seed>.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { readDxFile, type DxTransaction } from '@outpost/dx-format';
import { exec, query, sync } from './support/laptops';
import { serverQuiet } from './support/storm-checks';
import { createWorld, type World } from './support/world';

const CLIENTS = Number(process.env.OUTPOST_CONVERGENCE_CLIENTS ?? 3);
const ROUNDS = Number(process.env.OUTPOST_CONVERGENCE_ROUNDS ?? 3);
const OPS = Number(process.env.OUTPOST_CONVERGENCE_OPS ?? 4);
const SEED = Number(process.env.OUTPOST_CONVERGENCE_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Each random change is a CLI process, a few seconds on a busy machine; the timeout follows the size. */
const TIMEOUT_MS = Math.max(180_000, CLIENTS * ROUNDS * (OPS + 2) * 5_000);

type Row = { id: string; name: string; sync_conflict_of: string | null };

/** mulberry32: small, seedable, good enough to pick operations. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe(`convergence (seed ${SEED}, ${CLIENTS} clients, ${ROUNDS} rounds, ${OPS} ops)`, () => {
  let world: World;
  const laptops: Array<{ name: string; dir: string }> = [];
  const rand = random(SEED);
  const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)]!;

  beforeAll(async () => {
    console.log(`convergence seed ${SEED} (replay with OUTPOST_CONVERGENCE_SEED=${SEED})`);
    world = await createWorld();
    for (let i = 0; i < 6; i += 1) {
      await world.db.query(
        `INSERT INTO account (id, name, owner_login) VALUES (gen_random_uuid(), $1, 'team')`,
        [`Seed ${i}`],
      );
    }
    for (let i = 0; i < CLIENTS; i += 1) {
      const name = `conv-${i}`;
      laptops.push({ name, dir: await world.laptop(name, 'team') });
    }
  }, TIMEOUT_MS);
  afterAll(async () => {
    await world?.close();
  });

  const local = (dir: string) =>
    query(dir, 'SELECT id, name, sync_conflict_of FROM account ORDER BY id') as Promise<Row[]>;
  const serverRows = async (): Promise<Row[]> =>
    (
      await world.db.query(
        // A duplicate-key row reaches laptops marked with its own id.
        `SELECT id::text, name, CASE WHEN sync_conflict_of IS NULL THEN NULL ELSE id::text END AS sync_conflict_of
           FROM account WHERE owner_login = 'team' ORDER BY id::text COLLATE "C"`,
      )
    ).rows;

  async function randomOp(laptop: { name: string; dir: string }, label: string): Promise<void> {
    const rows = await local(laptop.dir);
    const dice = rand();
    if (rows.length === 0 || dice < 0.25) {
      // Sometimes a name another laptop may also use: a duplicate business key.
      const name = rand() < 0.3 ? `Shared ${Math.floor(rand() * 3)}` : `${label} new`;
      await exec(laptop.dir, `INSERT INTO account (name, owner_login) VALUES ('${name}', 'team')`);
    } else if (dice < 0.85) {
      await exec(laptop.dir, `UPDATE account SET name = '${label}' WHERE id = '${pick(rows).id}'`);
    } else {
      await exec(laptop.dir, `DELETE FROM account WHERE id = '${pick(rows).id}'`);
    }
  }

  /** The server has applied every received file and routed every log entry. */
  const quiet = () => serverQuiet(world.db, 60_000, `seed ${SEED}`);

  it(
    'converges, and every losing value is on record',
    async () => {
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const laptop of laptops) {
          for (let op = 0; op < OPS; op += 1) await randomOp(laptop, `${laptop.name} r${round} o${op}`);
        }
        const order = [...laptops].sort(() => rand() - 0.5).filter(() => rand() < 0.8);
        for (const laptop of order) await sync(laptop.dir);
      }
      for (let pass = 0; pass < 2; pass += 1) {
        for (const laptop of laptops) {
          await sync(laptop.dir);
          await quiet();
        }
      }

      const server = await serverRows();
      for (const laptop of laptops) {
        expect({ laptop: laptop.name, seed: SEED, rows: await local(laptop.dir) }).toEqual({
          laptop: laptop.name,
          seed: SEED,
          rows: server,
        });
      }
      const names = new Set(server.map((r) => r.name));
      const conflictValues = new Set<string>(
        (await world.db.query(`SELECT client_value, server_value FROM sync_conflict`)).rows.flatMap((r) =>
          [r.client_value, r.server_value].filter((v) => typeof v === 'string'),
        ),
      );
      const sent = await sentTransactions();
      const conflicts = (
        await world.db.query(`SELECT kind, count(*)::int AS n FROM sync_conflict GROUP BY kind`)
      ).rows;
      console.log(
        `convergence seed ${SEED}: ${sent.length} transactions sent, conflicts ${JSON.stringify(conflicts)}`,
      );
      expect(sent.length).toBeGreaterThan(0);
      const superseded = new Set(
        sent.flatMap((tx) =>
          tx.op === 'update' && typeof tx.changes.name?.old === 'string' ? [tx.changes.name.old] : [],
        ),
      );
      const deleted = new Set(sent.filter((tx) => tx.op === 'delete').map((tx) => tx.id));
      const conflictRows = new Set<string>(
        (await world.db.query(`SELECT row_id::text FROM sync_conflict`)).rows.map((r) => r.row_id),
      );
      for (const tx of sent) {
        if (tx.op !== 'update' || typeof tx.changes.name?.new !== 'string') continue;
        const value = tx.changes.name.new;
        const traced =
          names.has(value) ||
          conflictValues.has(value) ||
          superseded.has(value) ||
          deleted.has(tx.id) ||
          conflictRows.has(tx.id);
        expect({ value, row: tx.id, seed: SEED, traced }).toEqual({
          value,
          row: tx.id,
          seed: SEED,
          traced: true,
        });
      }
    },
    TIMEOUT_MS,
  );

  async function sentTransactions(): Promise<DxTransaction[]> {
    const out: DxTransaction[] = [];
    for (const laptop of laptops) {
      const sentDir = path.join(laptop.dir, 'outbox', 'sent');
      for (const file of readdirSync(sentDir)
        .filter((f) => f.endsWith('.dx'))
        .sort()) {
        for await (const tx of readDxFile(path.join(sentDir, file))) out.push(tx);
      }
    }
    return out;
  }
});
