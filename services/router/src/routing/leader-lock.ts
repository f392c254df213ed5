import { Inject, Injectable } from '@nestjs/common';
import { Client } from 'pg';
import type { RouterConfig } from '../config/router.config';
import { ROUTER_CONFIG } from '../router.tokens';

/** Fixed key: only the router that holds it routes, so two router processes never write the same file seq. */
const ROUTER_LOCK_KEY = '7302158940003';

/**
 * A session advisory lock on a connection of its own. A second router process stays idle until the
 * first one's connection goes away (stop or crash), then takes over where the database says it was.
 * The holder re-checks its lease before every pass: a connection cut by the server (or a network
 * partition the server noticed) loses the lock, and the router must stop writing at once.
 */
@Injectable()
export class LeaderLock {
  private client: Client | null = null;
  private held = false;

  constructor(@Inject(ROUTER_CONFIG) private readonly config: RouterConfig) {}

  async acquire(): Promise<boolean> {
    if (this.held && this.client) return this.confirm();
    if (!this.client) {
      const client = new Client({
        connectionString: this.config.databaseUrl,
        application_name: 'outpost-router-lock',
      });
      client.on('error', () => {
        this.held = false;
        this.client = null;
      });
      await client.connect();
      this.client = client;
    }
    const res = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [
      ROUTER_LOCK_KEY,
    ]);
    this.held = res.rows[0]?.ok === true;
    return this.held;
  }

  /** Whether the lease still holds: the lock's session is alive and still owns the lock. */
  async confirm(): Promise<boolean> {
    const client = this.client;
    if (!this.held || !client) return false;
    try {
      const res = await client.query<{ ok: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                          AND ((classid::bigint << 32) | objid::bigint) = $1::bigint) AS ok`,
        [ROUTER_LOCK_KEY],
      );
      this.held = res.rows[0]?.ok === true;
    } catch {
      this.held = false;
    }
    if (!this.held) await this.release();
    return this.held;
  }

  async release(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.held = false;
    await client?.end().catch(() => undefined);
  }
}
