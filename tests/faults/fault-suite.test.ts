/**
 * Fault suite: laptops of overlapping users sync random offline changes (the storm's generator)
 * while faults chosen by the seed are injected one after another: SIGKILL of each service (started
 * again after a short delay), SIGKILL of the agent mid-sync, the agents' path to the gateway cut,
 * stalled and slowed, the stack's path to Postgres and to RabbitMQ cut, its S3 server restarted
 * (and, with OUTPOST_FAULTS_RESTART_SHARED=1, the machine's Postgres and RabbitMQ restarted).
 *
 * When the faults stop and every laptop has synced until nothing moves (at least twice):
 * - each laptop holds exactly what its user may see (the oracle);
 * - every change a laptop made was applied exactly once, or is on record as refused or lost to a
 *   conflict (none lost, none doubled), and every losing value is on record;
 * - no laptop is stuck: its outbox is drained and its status waits for nothing;
 * - no service exited on its own (one that did is started again, so the other checks still run,
 *   and its log's end is printed).
 *
 * Size: OUTPOST_FAULTS_LAPTOPS (4), OUTPOST_FAULTS_CHANGES (300, all laptops together),
 * OUTPOST_FAULTS_ROUNDS (4); the timeout follows the size (OUTPOST_FAULTS_TIMEOUT_MS overrides
 * it). Replay with OUTPOST_FAULTS_SEED=<the printed seed>: the same changes, sync orders and
 * sequence of faults; when each fault lands in a sync depends on timing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SyncSummary } from '@outpost/client-agent';
import { salesSchema } from '@outpost/schema';
import { delay } from '@outpost/test-support';
import { checkAgainstOracle } from '../support/oracle';
import { seededRandom, StormLaptop } from '../support/storm';
import { makeChange } from '../support/storm-changes';
import {
  NOTHING_WAITS,
  seedServer,
  sentTransactions,
  serverQuiet,
  untracedValues,
  waitsOf,
} from '../support/storm-checks';
import { createFaultWorld, type FaultWorld } from './fault-world';
import { exactlyOnce } from './exactly-once';
import { crashingSync, faultDeck, FaultInjector, faultKinds, shuffle, type AgentCrash } from './faults';

const size = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const LAPTOPS = size('OUTPOST_FAULTS_LAPTOPS', 4);
const CHANGES = size('OUTPOST_FAULTS_CHANGES', 300);
const ROUNDS = size('OUTPOST_FAULTS_ROUNDS', 4);
const PARALLEL = 2;
const SEED = size('OUTPOST_FAULTS_SEED', Math.floor(Math.random() * 2 ** 31));
const TIMEOUT_MS = size('OUTPOST_FAULTS_TIMEOUT_MS', 240_000 + CHANGES * 100 + LAPTOPS * ROUNDS * 5_000);
/** How long the server may take to drain, and a service to answer again, after the faults. */
const DRAIN_MS = Math.max(120_000, CHANGES * 50);
/** Share of the syncs during the faults that run as an agent process killed mid-sync. */
const AGENT_KILL_SHARE = 0.15;

const MANAGER = 'boss';
const REPS = Array.from({ length: Math.max(2, Math.ceil((LAPTOPS - 1) * 0.75)) }, (_, i) => `rep${i + 1}`);
const USERS = [MANAGER, ...REPS];
const laptopUser = (i: number) => (i === 0 ? MANAGER : REPS[(i - 1) % REPS.length]);
const label = `seed ${SEED}, ${LAPTOPS} laptops, ${CHANGES} changes, ${ROUNDS} rounds`;

describe(`fault suite (${label})`, () => {
  let world: FaultWorld;
  let root: string;
  let logDir: string;
  /** The service logs are kept for a failed run's post-mortem, removed after a passing one. */
  let passed = false;
  let injector: FaultInjector;
  const laptops: StormLaptop[] = [];
  /** Changes and sync orders; faults draw from their own stream, so timing never shifts the changes. */
  const rand = seededRandom(SEED);
  const faultRand = seededRandom(SEED ^ 0xfa17);
  const tally = { syncs: 0, failedSyncs: 0, agentKills: 0, changes: 0 };
  const failures = new Map<string, number>();
  /** While the fault loop runs (it stops when the storm ends, or when a fault cannot be put back). */
  let faulting = true;

  beforeAll(async () => {
    console.log(`fault suite ${label} (replay with OUTPOST_FAULTS_SEED=${SEED})`);
    root = mkdtempSync(path.join(os.tmpdir(), 'outpost-faults-'));
    logDir = mkdtempSync(path.join(os.tmpdir(), 'outpost-faults-logs-'));
    console.log(`fault suite: service logs in ${logDir}`);
    world = await createFaultWorld(logDir);
    injector = new FaultInjector(world, faultRand);
    await seedServer(world.db, SEED, MANAGER, REPS);
    for (let i = 0; i < LAPTOPS; i += 1) {
      laptops.push(await StormLaptop.create(world.laptopStack, root, `faults-${i}`, laptopUser(i)));
    }
  }, TIMEOUT_MS);

  afterAll(async () => {
    await world?.close();
    if (root) rmSync(root, { recursive: true, force: true });
    if (passed && logDir) rmSync(logDir, { recursive: true, force: true });
  });

  it(
    'nothing lost, nothing doubled, no laptop stuck, every laptop what its user may see',
    async () => {
      const started = Date.now();
      const faults = (async () => {
        const next = faultDeck(faultRand, faultKinds());
        while (faulting) {
          await injector.inject(next());
          await injector.reviveCrashed();
          await delay(200 + Math.floor(faultRand() * 1_300));
        }
      })().finally(() => (faulting = false));
      try {
        await storm();
      } finally {
        faulting = false;
        await faults;
      }
      await injector.healed(DRAIN_MS);
      const passes = await settle();
      const seconds = ((Date.now() - started) / 1000).toFixed(1);

      const stuck: unknown[] = [];
      for (const laptop of laptops) {
        const waits = waitsOf(await laptop.status());
        if (JSON.stringify(waits) !== JSON.stringify(NOTHING_WAITS))
          stuck.push({ laptop: laptop.name, waits });
      }
      const reports = await Promise.all(laptops.map((l) => exactlyOnce(world.db, l)));
      const lost = reports.flatMap((r) => r.lost.map((x) => `${r.laptop}: ${x}`));
      const doubled = reports.flatMap((r) => r.doubled.map((x) => `${r.laptop}: ${x}`));
      const untraced = await untracedValues(
        world.db,
        (await sentTransactions(laptops)).map((s) => s.tx),
      );
      const faultCounts = Object.fromEntries([...injector.counts].sort());
      console.log(
        `fault suite seed ${SEED}: ${seconds} s; syncs ${tally.syncs} (${tally.failedSyncs} failed under faults, ` +
          `${passes} settling passes); faults ${JSON.stringify(faultCounts)}; changes ${tally.changes} ` +
          `(${reports.reduce((n, r) => n + r.sent, 0)} transactions sent); lost ${lost.length + untraced.length}, ` +
          `doubled ${doubled.length}, stuck ${stuck.length}; service exits ` +
          `${JSON.stringify(Object.fromEntries(injector.unexpectedExits))}; sync failures ` +
          `${JSON.stringify(Object.fromEntries(failures))} (replay with OUTPOST_FAULTS_SEED=${SEED})`,
      );

      // Every kind of fault happened at least once.
      for (const kind of [...faultKinds(), 'agent kill' as const])
        expect({ kind, seed: SEED, injected: (injector.counts.get(kind) ?? 0) > 0 }).toEqual({
          kind,
          seed: SEED,
          injected: true,
        });
      expect({ seed: SEED, stuck }).toEqual({ seed: SEED, stuck: [] });
      expect({ seed: SEED, lost: lost.slice(0, 10), count: lost.length }).toEqual({
        seed: SEED,
        lost: [],
        count: 0,
      });
      expect({ seed: SEED, doubled: doubled.slice(0, 10), count: doubled.length }).toEqual({
        seed: SEED,
        doubled: [],
        count: 0,
      });
      expect({ seed: SEED, untraced: untraced.slice(0, 10), count: untraced.length }).toEqual({
        seed: SEED,
        untraced: [],
        count: 0,
      });
      for (const laptop of laptops) {
        const differences = await checkAgainstOracle(world.db, salesSchema, laptop.user, {
          dbFile: laptop.dbFile,
        });
        expect({ laptop: laptop.name, seed: SEED, differences: differences.slice(0, 5) }).toEqual({
          laptop: laptop.name,
          seed: SEED,
          differences: [],
        });
      }
      // A service that exited was started again so the other checks could run; the exit itself fails.
      if (injector.exitNotes.length > 0) console.log(`service exits:\n${injector.exitNotes.join('\n\n')}`);
      expect({ seed: SEED, exits: injector.exitNotes }).toEqual({ seed: SEED, exits: [] });
      passed = true;
    },
    TIMEOUT_MS,
  );

  /**
   * Rounds of offline changes, each followed by the syncs of a random subset in random order;
   * while any fault is still to come for the first time, more rounds of syncs (without changes)
   * follow, so each kind meets traffic.
   */
  async function storm(): Promise<void> {
    const serials = laptops.map(() => 0);
    const allKinds = () => faultKinds().every((k) => (injector.counts.get(k) ?? 0) > 0);
    // Bounded: a run whose faults never all came up fails on the "every kind" check, not on its timeout.
    const more = (round: number) =>
      faulting && round < ROUNDS + 200 && (!allKinds() || tally.agentKills === 0);
    for (let round = 0; round < ROUNDS || more(round); round += 1) {
      if (round < ROUNDS) {
        const share = Math.floor(CHANGES / ROUNDS) + (round < CHANGES % ROUNDS ? 1 : 0);
        const counts = laptops.map(() => 0);
        for (let c = 0; c < share; c += 1) counts[Math.floor(rand() * laptops.length)] += 1;
        for (const [i, laptop] of laptops.entries()) {
          if (counts[i] === 0) continue;
          await laptop.write((store) => {
            for (let c = 0; c < counts[i]; c += 1) {
              makeChange(store.db, {
                rand,
                laptop: laptop.name,
                user: laptop.user,
                users: USERS,
                serial: () => (serials[i] += 1),
              });
              tally.changes += 1;
            }
          });
        }
      }
      const order = shuffle(rand, laptops).filter(() => rand() < 0.85);
      const plans = order.map((laptop) => ({ laptop, crash: agentCrash() }));
      await inParallel(plans, ({ laptop, crash }) => syncUnderFaults(laptop, crash));
    }
  }

  /** Whether (and how) the agent of the next sync dies mid-sync. */
  function agentCrash(): { how: AgentCrash; afterMs: number } | null {
    if (rand() >= AGENT_KILL_SHARE) return null;
    const how = (['after-upload', 'mid-download', 'timer'] as const)[Math.floor(rand() * 3)];
    return { how, afterMs: 300 + Math.floor(rand() * 1_500) };
  }

  async function syncUnderFaults(
    laptop: StormLaptop,
    crash: { how: AgentCrash; afterMs: number } | null,
  ): Promise<void> {
    tally.syncs += 1;
    if (crash) {
      if (await crashingSync(laptop.cfg.dir, crash.how, crash.afterMs)) {
        tally.agentKills += 1;
        injector.count('agent kill');
      }
      return;
    }
    try {
      await laptop.sync();
    } catch (error) {
      // Expected while something is broken: the next sync carries on where this one stopped.
      tally.failedSyncs += 1;
      const code = (error as { code?: string }).code ?? (error as Error).name;
      failures.set(code, (failures.get(code) ?? 0) + 1);
    }
  }

  /** Syncs everyone, waits for the server to drain, until a whole pass moves nothing (two at least). */
  async function settle(): Promise<number> {
    for (let pass = 1; pass <= 8; pass += 1) {
      const summaries = await inParallel(laptops, (laptop) => {
        tally.syncs += 1;
        return laptop.sync();
      });
      await serverQuiet(world.db, DRAIN_MS, `seed ${SEED}`);
      const moved = summaries.some((s: SyncSummary) => s.uploaded.files > 0 || s.downloaded.files > 0);
      if (!moved && pass > 1) return pass;
    }
    throw new Error(`laptops still moving files after 8 settling passes (seed ${SEED})`);
  }

  async function inParallel<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = [];
    for (let i = 0; i < items.length; i += PARALLEL) {
      results.push(...(await Promise.all(items.slice(i, i + PARALLEL).map(work))));
    }
    return results;
  }
});
