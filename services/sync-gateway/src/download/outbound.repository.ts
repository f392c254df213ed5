import { Injectable } from '@nestjs/common';
import type { OutboundFileView } from '@outpost/contracts';
import { DataSource } from 'typeorm';

export interface RouteEpoch {
  /** null while the client has no extract at all. */
  epoch: number | null;
  /** A (re)extract is wanted and not yet written: no route state, or a request newer than the extract. */
  extractPending: boolean;
}

/**
 * Reads the router's sync_route_state and sync_outbound_file (keyed by client, epoch, file seq).
 * The router owns those rows; the gateway's only write is setting acked_at.
 */
@Injectable()
export class OutboundRepository {
  constructor(private readonly db: DataSource) {}

  async routeEpoch(client: string): Promise<RouteEpoch> {
    const rows: Array<{ epoch: number | null; pending: boolean }> = await this.db.query(
      `SELECT s.epoch::int AS epoch,
              (s.client IS NULL OR (c.extract_requested_at IS NOT NULL AND c.extract_requested_at > s.extracted_at)) AS pending
         FROM sync_client c LEFT JOIN sync_route_state s ON s.client = c.name
        WHERE c.name = $1`,
      [client],
    );
    return { epoch: rows[0]?.epoch ?? null, extractPending: rows[0]?.pending ?? true };
  }

  pending(client: string, epoch: number): Promise<OutboundFileView[]> {
    return this.db.query(
      `${SELECT} WHERE client = $1 AND epoch = $2 AND acked_at IS NULL AND obsolete_at IS NULL ORDER BY file_seq`,
      [client, epoch],
    );
  }

  async find(client: string, epoch: number, fileSeq: number): Promise<OutboundFileView | null> {
    const rows: OutboundFileView[] = await this.db.query(
      `${SELECT} WHERE client = $1 AND epoch = $2 AND file_seq = $3`,
      [client, epoch, fileSeq],
    );
    return rows[0] ?? null;
  }

  /** Acknowledges every file of the epoch up to `upToFileSeq`; repeating an ack changes nothing. */
  async ack(client: string, epoch: number, upToFileSeq: number): Promise<void> {
    await this.db.query(
      `UPDATE sync_outbound_file SET acked_at = now()
       WHERE client = $1 AND epoch = $2 AND file_seq <= $3 AND acked_at IS NULL`,
      [client, epoch, upToFileSeq],
    );
  }
}

const SELECT = `SELECT file_seq::int AS "fileSeq", kind, size::float8 AS size, sha256, txn_count::int AS "txnCount"
  FROM sync_outbound_file`;
