import { Injectable } from '@nestjs/common';
import { RouterDatabase } from '../database/router-database';
import type { CapturedRow } from './change-decoder';

/** The stream position up to which the log is complete, and a large transaction written in part. */
export interface CapturePosition {
  slotName: string;
  lsn: string;
  partialLsn: string | null;
  partialRows: number;
}

export interface SlotState {
  walStatus: string | null;
  activePid: number | null;
}

const INSERT_ROWS = `
  INSERT INTO sync_txn_log (at, table_name, row_id, op, origin_client, origin_user, origin_txn_seq, echo, old_refs, old_row)
  SELECT at, t, r, o, oc, ou, ots, e, refs, old
    FROM unnest($1::timestamptz[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::bigint[],
                $8::boolean[], $9::jsonb[], $10::jsonb[])
         WITH ORDINALITY AS x(at, t, r, o, oc, ou, ots, e, refs, old, n)
   ORDER BY n`;

/** The capture's SQL: the slot, its position and the log rows, each batch in one transaction. */
@Injectable()
export class CaptureRepository {
  constructor(private readonly db: RouterDatabase) {}

  async position(): Promise<CapturePosition | null> {
    const rows = await this.db.query<{
      slot_name: string;
      lsn: string;
      partial_lsn: string | null;
      partial_rows: number;
    }>(
      'SELECT slot_name, lsn::text AS lsn, partial_lsn::text AS partial_lsn, partial_rows FROM sync_capture_position',
    );
    const r = rows[0];
    return r
      ? { slotName: r.slot_name, lsn: r.lsn, partialLsn: r.partial_lsn, partialRows: r.partial_rows }
      : null;
  }

  async slot(name: string): Promise<SlotState | null> {
    const rows = await this.db.query<{ wal_status: string | null; active_pid: number | null }>(
      'SELECT wal_status, active_pid FROM pg_replication_slots WHERE slot_name = $1',
      [name],
    );
    return rows[0] ? { walStatus: rows[0].wal_status, activePid: rows[0].active_pid } : null;
  }

  /**
   * Ends the WAL sender that still holds the slot (a dead leader's); the pid it had, or null when
   * the slot was free. Called by the leader only.
   */
  async takeOverSlot(name: string): Promise<number | null> {
    const rows = await this.db.query<{ pid: number }>(
      `SELECT active_pid AS pid, pg_terminate_backend(active_pid) FROM pg_replication_slots
        WHERE slot_name = $1 AND active_pid IS NOT NULL`,
      [name],
    );
    return rows[0]?.pid ?? null;
  }

  /** Creates the slot unless it exists; true when this call created it. Runs outside any transaction. */
  async createSlot(name: string): Promise<boolean> {
    try {
      await this.db.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [name]);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === '42710') return false; // created by another replica
      throw err;
    }
  }

  async dropSlot(name: string): Promise<void> {
    await this.db.query(
      'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
      [name],
    );
  }

  /** Whether anything was ever captured or routed here: then a new slot has missed changes. */
  async hasHistory(): Promise<boolean> {
    const rows = await this.db.query<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM sync_txn_log) OR EXISTS (SELECT 1 FROM sync_route_state) AS any`,
    );
    return rows[0]?.any === true;
  }

  /**
   * Starts the position at the slot's own start (a new slot) and, when changes may have been
   * missed, asks every client for a re-extract, in one transaction: a crash in between repeats both.
   */
  async resetPosition(slotName: string, opts: { replace: boolean; reextract: boolean }): Promise<number> {
    return this.db.transaction(async (tx) => {
      const onConflict = opts.replace
        ? `DO UPDATE SET slot_name = EXCLUDED.slot_name, lsn = EXCLUDED.lsn, partial_lsn = NULL,
             partial_rows = 0, updated_at = now()`
        : 'DO NOTHING';
      await tx.query(
        `INSERT INTO sync_capture_position (id, slot_name, lsn)
         SELECT true, slot_name, confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1
         ON CONFLICT (id) ${onConflict}`,
        [slotName],
      );
      if (!opts.reextract) return 0;
      const rows = await tx.query<{ name: string }>(
        `UPDATE sync_client SET extract_requested_at = now() WHERE status = 'active' RETURNING name`,
      );
      return rows.length;
    });
  }

  /** Appends captured rows and moves the position, together: one statement, one commit. */
  async write(
    rows: CapturedRow[],
    lsn: string | null,
    partial: { lsn: string; rows: number } | null,
  ): Promise<void> {
    await this.db.query(
      `WITH logged AS (${INSERT_ROWS})
       UPDATE sync_capture_position SET lsn = CASE WHEN $11::pg_lsn > lsn THEN $11::pg_lsn ELSE lsn END,
              partial_lsn = $12::pg_lsn, partial_rows = $13, updated_at = now()`,
      [...rowParams(rows), lsn ?? '0/0', partial?.lsn ?? null, partial?.rows ?? 0],
    );
  }
}

function rowParams(rows: CapturedRow[]): unknown[] {
  return [
    rows.map((r) => r.at),
    rows.map((r) => r.table),
    rows.map((r) => r.rowId),
    rows.map((r) => r.op),
    rows.map((r) => r.originClient),
    rows.map((r) => r.originUser),
    rows.map((r) => r.originTxnSeq),
    rows.map((r) => r.echo),
    rows.map((r) => (r.oldRefs === null ? null : JSON.stringify(r.oldRefs))),
    rows.map((r) => (r.oldRow === null ? null : JSON.stringify(r.oldRow))),
  ];
}
