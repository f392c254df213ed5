import { Injectable } from '@nestjs/common';
import type { CaptureStatusView } from '@outpost/contracts';
import { DataSource } from 'typeorm';

interface StatusRow {
  slot_name: string | null;
  slot_exists: boolean;
  active: boolean | null;
  wal_status: string | null;
  lag_bytes: string | null;
  lag_seconds: number | null;
  position: string | null;
  updated_at: Date | null;
}

/** Reads the router's capture position and its slot; the gateway never writes either. */
@Injectable()
export class CaptureStatusRepository {
  constructor(private readonly db: DataSource) {}

  async status(): Promise<CaptureStatusView> {
    const rows: StatusRow[] = await this.db.query(
      `SELECT p.slot_name, s.slot_name IS NOT NULL AS slot_exists, s.active, s.wal_status,
              pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::text AS lag_bytes,
              CASE WHEN s.slot_name IS NULL THEN NULL
                   WHEN pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn) <= 0 THEN 0
                   ELSE extract(epoch FROM now() - p.updated_at)::float8 END AS lag_seconds,
              p.lsn::text AS position, p.updated_at
         FROM (SELECT true) one
         LEFT JOIN sync_capture_position p ON true
         LEFT JOIN pg_replication_slots s ON s.slot_name = p.slot_name`,
    );
    const r = rows[0];
    return {
      slotName: r.slot_name,
      slotExists: r.slot_exists,
      active: r.active === true,
      walStatus: r.wal_status,
      lagBytes: r.lag_bytes === null ? null : Number(r.lag_bytes),
      lagSeconds: r.lag_seconds,
      position: r.position,
      positionUpdatedAt: r.updated_at === null ? null : r.updated_at.toISOString(),
    };
  }
}
