import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Write authorization: every change of a laptop the server did not apply is kept with its reason
 * (`sync-admin refusals list`, and the laptop's own status); a whole file can be refused (it names
 * another user), which moves the client's position past it like an administrator's rejection. Conflicts keep
 * the laptop's change time as given and, when it was later than the file's receipt, the clamped
 * time latest-wins compared instead.
 */
export class SyncRefusal1760000002200 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sync_refusal (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        at          timestamptz NOT NULL DEFAULT now(),
        client      text NOT NULL,
        user_login  text NOT NULL,
        file_seq    integer NOT NULL,
        txn_seq     bigint NOT NULL,
        table_name  text NOT NULL,
        row_id      text NOT NULL,
        op          text NOT NULL,
        code        text NOT NULL,
        reason      text NOT NULL
      )`);
    await q.query(`CREATE INDEX sync_refusal_client_idx ON sync_refusal (client, at)`);
    await q.query(`ALTER TABLE sync_conflict ADD COLUMN client_at_clamped timestamptz NULL`);
    await q.query(`ALTER TABLE sync_inbox_file DROP CONSTRAINT sync_inbox_file_status_check`);
    await q.query(
      `ALTER TABLE sync_inbox_file ADD CONSTRAINT sync_inbox_file_status_check
         CHECK (status IN ('received', 'applied', 'quarantined', 'refused', 'rejected'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM sync_inbox_file WHERE status = 'refused'`);
    await q.query(`ALTER TABLE sync_inbox_file DROP CONSTRAINT sync_inbox_file_status_check`);
    await q.query(
      `ALTER TABLE sync_inbox_file ADD CONSTRAINT sync_inbox_file_status_check
         CHECK (status IN ('received', 'applied', 'quarantined', 'rejected'))`,
    );
    await q.query(`ALTER TABLE sync_conflict DROP COLUMN client_at_clamped`);
    await q.query(`DROP TABLE sync_refusal`);
  }
}
