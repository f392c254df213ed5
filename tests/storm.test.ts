/**
 * Convergence storm: laptops of several users with overlapping visibility (a manager on every team
 * and owner of the shared accounts, reps sharing teams and accounts, some reps with two laptops)
 * make random changes of every kind offline, sync in random order (several at once), and some stay
 * offline for many rounds. Laptops run through the agent's library in this process.
 *
 * After the storm every laptop syncs until nothing moves, then:
 * - each laptop holds exactly what its user may see on the server (the oracle: a Postgres query of
 *   the visibility rules, not the router's state);
 * - every value a laptop sent that the server does not hold is on record: in the conflict record,
 *   in the refusal record, overwritten by a change that had seen it, or its row deleted;
 * - no laptop waits for anything (its status lists nothing).
 *
 * Size: OUTPOST_STORM_LAPTOPS (5), OUTPOST_STORM_CHANGES (1000, all laptops together),
 * OUTPOST_STORM_ROUNDS (10), OUTPOST_STORM_PARALLEL (syncs at once, 3); the timeout follows the
 * size (OUTPOST_STORM_TIMEOUT_MS overrides it). Replay a failure with OUTPOST_STORM_SEED=<the
 * printed seed>: the same changes and sync orders; the server's asynchronous timing may differ.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SyncSummary } from '@outpost/client-agent';
import { salesSchema } from '@outpost/schema';
import { checkAgainstOracle, type OracleDifference } from './support/oracle';
import { seededRandom, StormLaptop } from './support/storm';
import {
  hasRefusalTable,
  NOTHING_WAITS,
  seedServer,
  sentTransactions,
  serverQuiet,
  untracedValues,
  waitsOf,
} from './support/storm-checks';
import { makeChange, type ChangeKind } from './support/storm-changes';
import { createWorld, type World } from './support/world';

const size = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const LAPTOPS = size('OUTPOST_STORM_LAPTOPS', 5);
const CHANGES = size('OUTPOST_STORM_CHANGES', 1000);
const ROUNDS = size('OUTPOST_STORM_ROUNDS', 10);
const PARALLEL = size('OUTPOST_STORM_PARALLEL', 3);
const SEED = size('OUTPOST_STORM_SEED', Math.floor(Math.random() * 2 ** 31));
/** Generous on a loaded machine: a CI-size storm takes a few minutes. */
const TIMEOUT_MS = size('OUTPOST_STORM_TIMEOUT_MS', 300_000 + CHANGES * 200 + LAPTOPS * ROUNDS * 4_000);
/** How long the server may take to drain after the storm. */
const DRAIN_MS = Math.max(120_000, CHANGES * 50);

const MANAGER = 'boss';
const REPS = Array.from({ length: Math.max(2, Math.ceil((LAPTOPS - 1) * 0.75)) }, (_, i) => `rep${i + 1}`);
const USERS = [MANAGER, ...REPS];
/** The manager's laptop first, then the reps', cycling: with enough laptops some reps have two. */
const laptopUser = (i: number) => (i === 0 ? MANAGER : REPS[(i - 1) % REPS.length]);
const label = `seed ${SEED}, ${LAPTOPS} laptops, ${CHANGES} changes, ${ROUNDS} rounds`;

describe(`convergence storm (${label})`, () => {
  let world: World;
  let root: string;
  const laptops: StormLaptop[] = [];
  const rand = seededRandom(SEED);
  const made = new Map<ChangeKind, number>();

  beforeAll(async () => {
    console.log(`storm ${label} (replay with OUTPOST_STORM_SEED=${SEED})`);
    world = await createWorld();
    root = mkdtempSync(path.join(os.tmpdir(), 'outpost-storm-'));
    await seedServer(world.db, SEED, MANAGER, REPS);
    for (let i = 0; i < LAPTOPS; i += 1) {
      laptops.push(await StormLaptop.create(world.stack, root, `storm-${i}`, laptopUser(i)));
    }
  }, TIMEOUT_MS);

  afterAll(async () => {
    await world?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it(
    'converges to what each user may see, every losing value on record, nothing pending',
    async () => {
      const started = Date.now();
      await storm();
      const passes = await settle();
      const seconds = ((Date.now() - started) / 1000).toFixed(1);

      const conflicts = await countBy(
        `SELECT kind AS k, count(*)::int AS n FROM sync_conflict GROUP BY kind`,
      );
      const refusals = (await hasRefusalTable(world.db))
        ? await countBy(`SELECT code AS k, count(*)::int AS n FROM sync_refusal GROUP BY code`)
        : {};
      const sent = (await sentTransactions(laptops)).map((s) => s.tx);
      console.log(
        `storm ${label}: ${seconds} s (${passes} settling passes); ${sent.length} transactions sent; ` +
          `changes ${JSON.stringify(Object.fromEntries(made))}; conflicts ${JSON.stringify(conflicts)}; ` +
          `refusals ${JSON.stringify(refusals)}`,
      );
      // Every change wrote at least one row, and every written row went out.
      expect(sent.length).toBeGreaterThanOrEqual(CHANGES);

      for (const laptop of laptops) {
        const status = await laptop.status();
        expect({ laptop: laptop.name, seed: SEED, waits: waitsOf(status) }).toEqual({
          laptop: laptop.name,
          seed: SEED,
          waits: NOTHING_WAITS,
        });
      }

      for (const laptop of laptops) {
        const differences = await checkAgainstOracle(world.db, salesSchema, laptop.user, {
          dbFile: laptop.dbFile,
        });
        const explained = await Promise.all(differences.slice(0, 5).map((d) => explain(laptop, d)));
        expect({ laptop: laptop.name, user: laptop.user, seed: SEED, differences: explained }).toEqual({
          laptop: laptop.name,
          user: laptop.user,
          seed: SEED,
          differences: [],
        });
      }

      const untraced = await untracedValues(world.db, sent);
      expect({ seed: SEED, untraced: untraced.slice(0, 10), count: untraced.length }).toEqual({
        seed: SEED,
        untraced: [],
        count: 0,
      });
    },
    TIMEOUT_MS,
  );

  /** Rounds of offline changes, each followed by the syncs of a random subset in random order. */
  async function storm(): Promise<void> {
    const offline = laptops.map(() => offlineWindow());
    const serials = laptops.map(() => 0);
    for (let round = 0; round < ROUNDS; round += 1) {
      const share = Math.floor(CHANGES / ROUNDS) + (round < CHANGES % ROUNDS ? 1 : 0);
      const counts = laptops.map(() => 0);
      for (let c = 0; c < share; c += 1) counts[Math.floor(rand() * laptops.length)] += 1;
      for (const [i, laptop] of laptops.entries()) {
        if (counts[i] === 0) continue;
        await laptop.write((store) => {
          for (let c = 0; c < counts[i]; c += 1) {
            const kind = makeChange(store.db, {
              rand,
              laptop: laptop.name,
              user: laptop.user,
              users: USERS,
              serial: () => (serials[i] += 1),
            });
            made.set(kind, (made.get(kind) ?? 0) + 1);
          }
        });
      }
      const online = laptops.filter((_, i) => !(round >= offline[i].from && round < offline[i].to));
      const order = shuffle(online).filter(() => rand() < 0.85);
      await inParallel(order, (laptop) => laptop.sync());
    }
  }

  /** About a quarter of the laptops stay offline for 40-70% of the rounds. */
  function offlineWindow(): { from: number; to: number } {
    if (rand() >= 0.25) return { from: 0, to: 0 };
    const length = Math.max(1, Math.round(ROUNDS * (0.4 + rand() * 0.3)));
    const from = Math.floor(rand() * Math.max(1, ROUNDS - length));
    return { from, to: from + length };
  }

  /** Syncs everyone, waits for the server to drain, until a whole pass moves nothing. */
  async function settle(): Promise<number> {
    for (let pass = 1; pass <= 8; pass += 1) {
      const summaries = await inParallel(laptops, (laptop) => laptop.sync());
      await serverQuiet(world.db, DRAIN_MS, `seed ${SEED}`);
      const moved = summaries.some((s: SyncSummary) => s.uploaded.files > 0 || s.downloaded.files > 0);
      if (!moved && pass > 1) return pass;
    }
    throw new Error(`laptops still moving files after 8 settling passes (seed ${SEED})`);
  }

  /**
   * A difference with what the server knows of the row and of the rows its visibility hangs on:
   * their log (op, origin, echo) and whether the router believes the laptop holds them.
   */
  async function explain(laptop: StormLaptop, d: OracleDifference): Promise<unknown> {
    const related: Array<{ table: string; id: string }> = [{ table: d.table, id: d.id }];
    const row = d.laptop ?? d.server;
    for (const fk of ['account_id', 'opportunity_id']) {
      const ref = row?.[fk]?.replace(/^uuid:/, '');
      if (ref) related.push({ table: fk === 'account_id' ? 'account' : 'opportunity', id: ref });
    }
    const history = [];
    for (const r of related) {
      const log = await world.db.query(
        `SELECT seq, op, origin_client AS origin, echo FROM sync_txn_log WHERE row_id = $1 ORDER BY seq`,
        [r.id],
      );
      const held = await world.db.query(
        `SELECT 1 FROM sync_route_holding WHERE client = $1 AND table_name = $2 AND row_id = $3`,
        [laptop.name, r.table, r.id],
      );
      const onServer = await world.db.query(`SELECT * FROM "${r.table}" WHERE id = $1`, [r.id]);
      history.push({
        ...r,
        server: onServer.rows[0] ?? null,
        routerHolds: held.rowCount === 1,
        log: log.rows.map((l) => `${l.seq} ${l.op} ${l.origin ?? 'server'}${l.echo ? ' echo' : ''}`),
      });
    }
    return { ...d, history };
  }

  async function countBy(sql: string): Promise<Record<string, number>> {
    return Object.fromEntries((await world.db.query(sql)).rows.map((r) => [r.k, r.n]));
  }

  function shuffle<T>(items: T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i -= 1) {
      const j = Math.floor(rand() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  async function inParallel<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = [];
    for (let i = 0; i < items.length; i += PARALLEL) {
      results.push(...(await Promise.all(items.slice(i, i + PARALLEL).map(work))));
    }
    return results;
  }
});
