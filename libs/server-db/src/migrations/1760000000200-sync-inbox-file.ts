import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SyncInboxFile1760000000200 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sync_inbox_file (
        client      text NOT NULL REFERENCES sync_client (name),
        file_seq    integer NOT NULL CHECK (file_seq > 0),
        object_key  text NOT NULL,
        sha256      char(64) NOT NULL,
        size        bigint NOT NULL CHECK (size >= 0),
        txn_count   integer NOT NULL CHECK (txn_count >= 0),
        first_seq   integer NOT NULL CHECK (first_seq >= 0),
        last_seq    integer NOT NULL CHECK (last_seq >= first_seq),
        status      text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'applied', 'quarantined')),
        reason      text NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        applied_at  timestamptz NULL,
        PRIMARY KEY (client, file_seq)
      )`);
    // The applier's work list: received files per client, in order.
    await q.query(
      `CREATE INDEX sync_inbox_file_received_idx ON sync_inbox_file (client, file_seq) WHERE status = 'received'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sync_inbox_file`);
  }
}
