import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ways out of a stuck inbox. `rejected`: an administrator skipped a quarantined file; the client's
 * later files apply and the laptop gets the server's rows back. `rejection` holds the
 * administrator's reason; while the row is still `received` with a rejection, the applier rejects
 * it in turn instead of applying it. `attempts` and `last_error` count the failures of the same
 * kind, so a file that fails the same way again and again is quarantined instead of retried forever.
 */
export class SyncInboxDeadEnds1760000002100 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sync_inbox_file DROP CONSTRAINT sync_inbox_file_status_check`);
    await q.query(
      `ALTER TABLE sync_inbox_file ADD CONSTRAINT sync_inbox_file_status_check
         CHECK (status IN ('received', 'applied', 'quarantined', 'rejected'))`,
    );
    await q.query(`
      ALTER TABLE sync_inbox_file
        ADD COLUMN rejection  text NULL,
        ADD COLUMN attempts   integer NOT NULL DEFAULT 0,
        ADD COLUMN last_error text NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM sync_inbox_file WHERE status = 'rejected'`);
    await q.query(`
      ALTER TABLE sync_inbox_file DROP COLUMN rejection, DROP COLUMN attempts, DROP COLUMN last_error`);
    await q.query(`ALTER TABLE sync_inbox_file DROP CONSTRAINT sync_inbox_file_status_check`);
    await q.query(
      `ALTER TABLE sync_inbox_file ADD CONSTRAINT sync_inbox_file_status_check
         CHECK (status IN ('received', 'applied', 'quarantined'))`,
    );
  }
}
