import { Injectable } from '@nestjs/common';
import type { ClientLagView, ClientStatus } from '@outpost/contracts';
import { DataSource } from 'typeorm';

/**
 * How far behind each client is, both ways, read from the tables the applier and the router keep;
 * the gateway never writes them. One query per direction, grouped by client, so the answer costs
 * the same for ten clients or a thousand.
 */
@Injectable()
export class LagRepository {
  constructor(private readonly db: DataSource) {}

  async list(client?: string): Promise<ClientLagView[]> {
    const where = client === undefined ? '' : 'WHERE c.name = $1';
    const params = client === undefined ? [] : [client];
    const rows: LagRow[] = await this.db.query(
      `SELECT c.name, c.status, c.last_sync_at,
              COALESCE(i.pending_files, 0) AS pending_files, COALESCE(i.pending_bytes, 0) AS pending_bytes,
              COALESCE(i.quarantined_files, 0) AS quarantined_files, i.oldest_pending_age,
              COALESCE(o.unacked_files, 0) AS unacked_files, COALESCE(o.unacked_bytes, 0) AS unacked_bytes,
              o.oldest_unacked_age, COALESCE(r.failures, 0) AS failures, r.last_error
       FROM sync_client c
       LEFT JOIN (
         SELECT client, count(*) AS pending_files, sum(size) AS pending_bytes,
                count(*) FILTER (WHERE status = 'quarantined') AS quarantined_files,
                extract(epoch FROM now() - min(received_at)) AS oldest_pending_age
         FROM sync_inbox_file WHERE status IN ('received', 'quarantined') GROUP BY client
       ) i ON i.client = c.name
       LEFT JOIN (
         SELECT f.client, count(*) AS unacked_files, sum(f.size) AS unacked_bytes,
                extract(epoch FROM now() - min(f.created_at)) AS oldest_unacked_age
         FROM sync_outbound_file f
         JOIN sync_route_state s ON s.client = f.client AND s.epoch = f.epoch
         WHERE f.acked_at IS NULL AND f.obsolete_at IS NULL GROUP BY f.client
       ) o ON o.client = c.name
       LEFT JOIN sync_route_state r ON r.client = c.name
       ${where}
       ORDER BY c.name`,
      params,
    );
    const route = await this.routeBacklog();
    return rows.map((row) => toView(row, route));
  }

  /** Log entries past the router's watermark: the routing backlog every client shares. */
  private async routeBacklog(): Promise<{ pending: number; oldestAge: number | null }> {
    const [row]: { pending: string; oldest_age: string | null }[] = await this.db.query(
      `SELECT count(*) AS pending, extract(epoch FROM now() - min(l.at)) AS oldest_age
       FROM sync_txn_log l, sync_router_watermark w
       WHERE l.seq > w.last_seq`,
    );
    return { pending: Number(row?.pending ?? 0), oldestAge: seconds(row?.oldest_age ?? null) };
  }
}

interface LagRow {
  name: string;
  status: ClientStatus;
  last_sync_at: Date | null;
  pending_files: string;
  pending_bytes: string;
  quarantined_files: string;
  oldest_pending_age: string | null;
  unacked_files: string;
  unacked_bytes: string;
  oldest_unacked_age: string | null;
  failures: number;
  last_error: string | null;
}

function toView(row: LagRow, route: { pending: number; oldestAge: number | null }): ClientLagView {
  return {
    name: row.name,
    status: row.status,
    lastSyncAt: row.last_sync_at ? row.last_sync_at.toISOString() : null,
    inbox: {
      pendingFiles: Number(row.pending_files),
      pendingBytes: Number(row.pending_bytes),
      quarantinedFiles: Number(row.quarantined_files),
      oldestPendingAgeSeconds: seconds(row.oldest_pending_age),
    },
    outbound: {
      unackedFiles: Number(row.unacked_files),
      unackedBytes: Number(row.unacked_bytes),
      oldestUnackedAgeSeconds: seconds(row.oldest_unacked_age),
    },
    route: {
      pendingLogEntries: route.pending,
      oldestPendingAgeSeconds: route.oldestAge,
      failures: Number(row.failures),
      lastError: row.last_error,
    },
  };
}

function seconds(value: string | null): number | null {
  return value === null ? null : Math.max(0, Math.round(Number(value)));
}
