import path from 'node:path';
import {
  createProgress,
  initClientFolder,
  readStatus,
  runSync,
  withLocalStore,
  type AgentStatus,
  type LocalStore,
  type SyncConfig,
  type SyncSummary,
} from '@outpost/client-agent';
import type { Stack } from '@outpost/test-support';

/**
 * Laptops driven through the agent's library in the test's own process (as the bench drives them):
 * a storm of thousands of changes cannot afford a CLI process per change. Each change is one write
 * statement through the synced tables' capture triggers, as the laptop application makes it.
 */

const EXTRACT_TIMEOUT_MS = 600_000;
const quietProgress = () => createProgress({ tty: false });

/** mulberry32: small and seedable; the storm's every choice comes from it, so a seed replays them. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class StormLaptop {
  private constructor(
    readonly name: string,
    readonly user: string,
    readonly cfg: SyncConfig,
  ) {}

  /** Registers the client through the admin API and initialises its folder with the initial extract. */
  static async create(stack: Stack, root: string, name: string, user: string): Promise<StormLaptop> {
    const response = await fetch(`${stack.adminUrl}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, userLogin: user }),
    });
    const text = await response.text();
    if (response.status !== 201 && response.status !== 200)
      throw new Error(`registering ${name} failed: POST /admin/clients answered ${response.status}: ${text}`);
    const { secret } = JSON.parse(text) as { secret: string };
    const cfg: SyncConfig = {
      dir: path.join(root, name),
      server: stack.gatewayUrl,
      client: name,
      secret,
      schema: 'sales',
    };
    await initClientFolder(cfg, {
      extract: true,
      extractTimeoutMs: EXTRACT_TIMEOUT_MS,
      progress: quietProgress(),
    });
    return new StormLaptop(name, user, cfg);
  }

  get dbFile(): string {
    return path.join(this.cfg.dir, 'local.db');
  }

  sync(): Promise<SyncSummary> {
    return runSync(this.cfg, {
      upload: true,
      download: true,
      extractTimeoutMs: EXTRACT_TIMEOUT_MS,
      progress: quietProgress(),
    });
  }

  /** Local writes while no sync runs (the agent's folder lock keeps them apart, as on a laptop). */
  write<T>(work: (store: LocalStore) => T): Promise<T> {
    return withLocalStore(this.cfg, { exclusive: true }, work);
  }

  status(): Promise<AgentStatus> {
    return withLocalStore(this.cfg, { exclusive: false }, (store) => readStatus(this.cfg, store));
  }
}
