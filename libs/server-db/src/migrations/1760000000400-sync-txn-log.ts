import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The server transaction log, written only by the capture triggers and the applier (confirm and
 * echo rows). Writers hold the log advisory lock until commit, so seq order is commit order.
 */
export class SyncTxnLog1760000000400 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sync_txn_log (
        seq            bigserial PRIMARY KEY,
        at             timestamptz NOT NULL DEFAULT now(),
        table_name     text NULL,
        row_id         uuid NULL,
        op             text NOT NULL CHECK (op IN ('insert', 'update', 'delete', 'confirm')),
        origin_client  text NULL,
        origin_user    text NULL,
        origin_txn_seq bigint NULL,
        echo           boolean NOT NULL DEFAULT false,
        old_refs       jsonb NULL,
        -- A deleted row's last values, so a resurrect policy can bring the whole row back.
        old_row        jsonb NULL,
        txid           xid8 NOT NULL DEFAULT pg_current_xact_id(),
        CHECK ((op = 'confirm') = (table_name IS NULL AND row_id IS NULL)),
        CHECK (op <> 'confirm' OR (origin_client IS NOT NULL AND origin_txn_seq IS NOT NULL))
      )`);
    // Conflict resolution asks who changed a row last and whether anyone else changed it since a version.
    await q.query(`CREATE INDEX sync_txn_log_row_idx ON sync_txn_log (row_id, seq)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sync_txn_log`);
  }
}
