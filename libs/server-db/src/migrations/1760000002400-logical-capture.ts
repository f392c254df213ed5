import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  postgresCaptureFunctionsDdl,
  postgresCaptureTriggersDdl,
  postgresPublicationDdl,
  postgresPublicationDropDdl,
  postgresVersionFunctionDdl,
  quoteIdent,
  salesSchema,
} from '@outpost/schema';

/**
 * Capture moves from triggers that logged every row under one global lock to the router's reader
 * of the logical replication stream. The capture triggers and the lock go; the version trigger
 * stays (it only touches the row being written). The log and its seqs are kept: the capture
 * continues after its highest seq. The replication slot is created by the router at start, outside
 * any transaction (a slot cannot be created by a transaction that has written); on an existing
 * installation, writes committed between this migration and the slot are not in the stream, so the
 * router asks every client for a re-extract when it creates the slot over a non-empty log.
 */
export class LogicalCapture1760000002400 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    for (const t of salesSchema.tables) {
      await q.query(
        `DROP TRIGGER IF EXISTS ${quoteIdent(`${t.name}_sync_capture`)} ON ${quoteIdent(t.name)}`,
      );
    }
    await q.query('DROP FUNCTION IF EXISTS sync_capture_row()');
    await q.query('DROP FUNCTION IF EXISTS sync_log_lock()');
    await q.query(postgresVersionFunctionDdl());
    for (const sql of postgresPublicationDdl(salesSchema)) await q.query(sql);
    // One row: the capture's slot and the stream position up to which the log is complete.
    // `partial_*` name a transaction too large for one batch: its first rows are already logged.
    await q.query(`
      CREATE TABLE sync_capture_position (
        id           boolean PRIMARY KEY DEFAULT true CHECK (id),
        slot_name    text NOT NULL,
        lsn          pg_lsn NOT NULL,
        partial_lsn  pg_lsn NULL,
        partial_rows integer NOT NULL DEFAULT 0 CHECK (partial_rows >= 0),
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
    // The version each client was last sent: a change that reaches the log after a snapshot or a
    // batch already carried it is not sent twice.
    await q.query('ALTER TABLE sync_route_holding ADD COLUMN version bigint NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sync_route_holding DROP COLUMN version');
    await q.query('DROP TABLE sync_capture_position');
    for (const sql of postgresPublicationDropDdl(salesSchema)) await q.query(sql);
    // The trigger capture as it was; the router's slot (if any) is dropped by an operator.
    for (const sql of postgresCaptureFunctionsDdl()) await q.query(sql);
    for (const sql of postgresCaptureTriggersDdl(salesSchema).filter((s) => s.includes('_sync_capture'))) {
      await q.query(sql);
    }
  }
}
