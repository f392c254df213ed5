import { Client } from 'pg';

/** Fixed key: only the router that holds it routes, so two router processes never write the same file seq. */
const ROUTER_LOCK_KEY = '7302158940003';

/**
 * A session advisory lock on a connection of its own. A second router process stays idle until the
 * first one's connection goes away (stop or crash), then takes over where the database says it was.
 */
export class LeaderLock {
  private client: Client | null = null;
  private held = false;

  constructor(private readonly url: string) {}

  async acquire(): Promise<boolean> {
    if (this.held && this.client) return true;
    if (!this.client) {
      const client = new Client({ connectionString: this.url, application_name: 'outpost-router-lock' });
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

  async release(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.held = false;
    await client?.end().catch(() => undefined);
  }
}
