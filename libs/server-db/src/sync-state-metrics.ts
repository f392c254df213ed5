import { scrapedGauge } from '@outpost/server-kit';
import { Pool } from 'pg';

/**
 * Figures read from the sync tables when Prometheus scrapes, so they are right whichever replica
 * or restart did the work: the applier reports the upload direction, the router the download
 * direction and the log. One small pool of its own, so a scrape never waits behind the service's
 * work for a connection (and the other way round).
 */
export type SyncStateFamily = 'upload' | 'download';

export interface SyncStateMetrics {
  close(): Promise<void>;
}

export function startSyncStateMetrics(databaseUrl: string, families: SyncStateFamily[]): SyncStateMetrics {
  const pool = new Pool({ connectionString: databaseUrl, max: 1, application_name: 'outpost-metrics' });
  // A scrape that fails (database restarting) must not take the process down.
  pool.on('error', () => undefined);
  const rows = async <T>(sql: string): Promise<T[]> => (await pool.query(sql)).rows as T[];
  if (families.includes('upload')) registerUpload(rows);
  if (families.includes('download')) registerDownload(rows);
  registerBacklog(rows, families);
  return { close: () => pool.end() };
}

type Rows = <T>(sql: string) => Promise<T[]>;

function registerUpload(rows: Rows): void {
  scrapedGauge('outpost_inbox_files', 'Files in the server inbox, by status', ['status'], async (gauge) => {
    for (const r of await rows<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM sync_inbox_file GROUP BY status`,
    )) {
      gauge.set({ status: r.status }, Number(r.n));
    }
  });
  scrapedGauge(
    'outpost_transactions_applied',
    'Laptop transactions applied to Postgres',
    [],
    async (gauge) => {
      const [r] = await rows<{ n: string }>(
        `SELECT COALESCE(sum(txn_count), 0) AS n FROM sync_inbox_file WHERE status = 'applied'`,
      );
      gauge.set(Number(r.n));
    },
  );
  scrapedGauge(
    'outpost_apply_lag_seconds',
    'Age of the oldest received file not applied yet (0 when none waits)',
    [],
    async (gauge) => {
      const [r] = await rows<{ age: string | null }>(
        `SELECT extract(epoch FROM now() - min(received_at)) AS age FROM sync_inbox_file WHERE status = 'received'`,
      );
      gauge.set(Number(r.age ?? 0));
    },
  );
  scrapedGauge('outpost_conflicts', 'Conflicts resolved on the server, by kind', ['kind'], async (gauge) => {
    for (const r of await rows<{ kind: string; n: string }>(
      `SELECT kind, count(*) AS n FROM sync_conflict GROUP BY kind`,
    )) {
      gauge.set({ kind: r.kind }, Number(r.n));
    }
  });
}

function registerDownload(rows: Rows): void {
  scrapedGauge(
    'outpost_route_pending_log_entries',
    'Server log entries past the router watermark (not routed yet)',
    [],
    async (gauge) => {
      const [r] = await rows<{ n: string }>(
        `SELECT count(*) AS n FROM sync_txn_log l, sync_router_watermark w WHERE l.seq > w.last_seq`,
      );
      gauge.set(Number(r.n));
    },
  );
  scrapedGauge(
    'outpost_routing_lag_seconds',
    'Age of the oldest server log entry not routed yet (0 when the router is caught up)',
    [],
    async (gauge) => {
      const [r] = await rows<{ age: string | null }>(
        `SELECT extract(epoch FROM now() - min(l.at)) AS age
         FROM sync_txn_log l, sync_router_watermark w WHERE l.seq > w.last_seq`,
      );
      gauge.set(Number(r.age ?? 0));
    },
  );
  scrapedGauge(
    'outpost_replication_slot_lag_bytes',
    'WAL kept for each logical replication slot of this database, not yet confirmed by its consumer',
    ['slot'],
    async (gauge) => {
      for (const r of await rows<{ slot_name: string; lag: string | null }>(
        `SELECT slot_name, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn) AS lag
         FROM pg_replication_slots WHERE database = current_database()`,
      )) {
        gauge.set({ slot: r.slot_name }, Number(r.lag ?? 0));
      }
    },
  );
}

/** Per client and direction; each service reports the direction it owns. */
function registerBacklog(rows: Rows, families: SyncStateFamily[]): void {
  const queries: Record<SyncStateFamily, string> = {
    upload: `SELECT client, count(*) AS n FROM sync_inbox_file WHERE status IN ('received', 'quarantined') GROUP BY client`,
    download: `SELECT client, count(*) AS n FROM sync_outbound_file
               WHERE acked_at IS NULL AND obsolete_at IS NULL GROUP BY client`,
  };
  scrapedGauge(
    'outpost_client_backlog_files',
    'Files waiting per client: up = received and not applied, down = routed and not acknowledged',
    ['client', 'direction'],
    async (gauge) => {
      for (const family of families) {
        const direction = family === 'upload' ? 'up' : 'down';
        for (const r of await rows<{ client: string; n: string }>(queries[family])) {
          gauge.set({ client: r.client, direction }, Number(r.n));
        }
      }
    },
  );
}
