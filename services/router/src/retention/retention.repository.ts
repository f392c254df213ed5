import { Injectable } from '@nestjs/common';
import { RouterDatabase } from '../database/router-database';

/** A file whose object and row retention removes. */
export interface PrunableInboxFile {
  client: string;
  fileSeq: number;
  objectKey: string;
}

export interface PrunableOutboundFile {
  client: string;
  epoch: number;
  fileSeq: number;
  objectKey: string;
}

/** Tables of records kept for the administrator only; nothing reads them to sync. */
export type RecordTable = 'sync_conflict' | 'sync_refusal' | 'sync_auth_audit';

/** An extract is pending while it was asked for after the last one (ExtractService.pending). */
const NOT_PENDING = `NOT (c.extract_requested_at IS NOT NULL AND c.extract_requested_at > s.extracted_at)`;

/** Every query of retention; each delete is bounded by `limit` rows. */
@Injectable()
export class RetentionRepository {
  constructor(private readonly db: RouterDatabase) {}

  /**
   * Active clients with an outbound file of their epoch still unacknowledged after `before`: the
   * laptop has not downloaded for longer than the retention. They get a re-extract, which marks
   * those files obsolete, so what they wait for becomes one snapshot instead of an ever longer queue.
   */
  async requestStaleExtracts(before: Date): Promise<string[]> {
    const rows = await this.db.query<{ name: string }>(
      `UPDATE sync_client c SET extract_requested_at = now()
         FROM sync_route_state s
        WHERE s.client = c.name AND c.status = 'active' AND ${NOT_PENDING}
          AND EXISTS (SELECT 1 FROM sync_outbound_file f
                       WHERE f.client = s.client AND f.epoch = s.epoch
                         AND f.acked_at IS NULL AND f.obsolete_at IS NULL AND f.created_at < $1)
      RETURNING c.name`,
      [before],
    );
    return rows.map((r) => r.name);
  }

  /**
   * The highest log seq no routed client still needs: every active client whose routing is not
   * waiting for an extract has passed it, and so has the watermark. Clients waiting for an extract,
   * or deactivated, resume from their snapshot's position instead. The newest entry always stays:
   * an extract records `max(seq)` as its position.
   */
  async logHorizon(): Promise<number> {
    const [row] = await this.db.query<{ horizon: number | null }>(
      `SELECT least(
                (SELECT last_seq FROM sync_router_watermark),
                (SELECT min(s.from_seq) FROM sync_route_state s JOIN sync_client c ON c.name = s.client
                  WHERE c.status = 'active' AND ${NOT_PENDING}),
                (SELECT max(seq) - 1 FROM sync_txn_log)) AS horizon`,
    );
    return row?.horizon ?? 0;
  }

  /**
   * Deletes up to `limit` of the oldest log entries at or below `horizon` committed before
   * `before`. In the same transaction, every client not counted in the horizon (deactivated)
   * whose position is before the deleted entries is asked to re-extract: if it is reactivated
   * it starts from a snapshot instead of a log with a hole.
   */
  async pruneLog(
    horizon: number,
    before: Date,
    limit: number,
  ): Promise<{ deleted: number; reextract: string[] }> {
    return this.db.transaction(async (tx) => {
      const [last] = await tx.query<{ seq: number | null; n: number }>(
        `WITH gone AS (
           DELETE FROM sync_txn_log WHERE seq IN (
             SELECT seq FROM sync_txn_log WHERE seq <= $1 AND at < $2 ORDER BY seq LIMIT $3)
           RETURNING seq)
         SELECT max(seq) AS seq, count(*)::int AS n FROM gone`,
        [horizon, before, limit],
      );
      if (!last || last.n === 0 || last.seq === null) return { deleted: 0, reextract: [] };
      const marked = await tx.query<{ name: string }>(
        `UPDATE sync_client c SET extract_requested_at = now()
           FROM sync_route_state s
          WHERE s.client = c.name AND s.from_seq < $1 AND ${NOT_PENDING}
        RETURNING c.name`,
        [last.seq],
      );
      return { deleted: last.n, reextract: marked.map((r) => r.name) };
    });
  }

  async pruneRecords(table: RecordTable, before: Date, limit: number): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `WITH gone AS (
         DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE at < $1 ORDER BY at LIMIT $2))
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [before, limit],
    );
    return row?.n ?? 0;
  }

  /**
   * Inbox files done with (applied, refused whole, rejected) before `before`. Never a client's
   * newest file: its number is what the next upload and a new laptop's numbering continue from.
   * Quarantined and received files wait for the applier or the administrator.
   */
  async inboxFilesToPrune(before: Date, limit: number): Promise<PrunableInboxFile[]> {
    return this.db.query<PrunableInboxFile>(
      `SELECT f.client, f.file_seq AS "fileSeq", f.object_key AS "objectKey" FROM sync_inbox_file f
        WHERE f.status IN ('applied', 'refused', 'rejected') AND coalesce(f.applied_at, f.received_at) < $1
          AND f.file_seq < (SELECT max(m.file_seq) FROM sync_inbox_file m WHERE m.client = f.client)
        ORDER BY coalesce(f.applied_at, f.received_at) LIMIT $2`,
      [before, limit],
    );
  }

  async deleteInboxRows(files: PrunableInboxFile[]): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `WITH gone AS (
         DELETE FROM sync_inbox_file f USING unnest($1::text[], $2::int[]) AS d(client, file_seq)
          WHERE f.client = d.client AND f.file_seq = d.file_seq AND f.status IN ('applied', 'refused', 'rejected')
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [files.map((f) => f.client), files.map((f) => f.fileSeq)],
    );
    return row?.n ?? 0;
  }

  /**
   * Outbound files acknowledged, or made obsolete by a re-extract, before `before`. Never the
   * newest file of a client's current epoch: routing numbers the next file's transactions after
   * its last seq.
   */
  async outboundFilesToPrune(before: Date, limit: number): Promise<PrunableOutboundFile[]> {
    return this.db.query<PrunableOutboundFile>(
      `SELECT f.client, f.epoch, f.file_seq AS "fileSeq", f.object_key AS "objectKey" FROM sync_outbound_file f
         LEFT JOIN sync_route_state s ON s.client = f.client
        WHERE (f.acked_at < $1 OR f.obsolete_at < $1)
          AND NOT (f.epoch = s.epoch AND f.file_seq =
                   (SELECT max(m.file_seq) FROM sync_outbound_file m WHERE m.client = f.client AND m.epoch = f.epoch))
        ORDER BY coalesce(f.acked_at, f.obsolete_at) LIMIT $2`,
      [before, limit],
    );
  }

  async deleteOutboundRows(files: PrunableOutboundFile[]): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `WITH gone AS (
         DELETE FROM sync_outbound_file f USING unnest($1::text[], $2::int[], $3::int[]) AS d(client, epoch, file_seq)
          WHERE f.client = d.client AND f.epoch = d.epoch AND f.file_seq = d.file_seq
            AND (f.acked_at IS NOT NULL OR f.obsolete_at IS NOT NULL)
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [files.map((f) => f.client), files.map((f) => f.epoch), files.map((f) => f.fileSeq)],
    );
    return row?.n ?? 0;
  }
}
