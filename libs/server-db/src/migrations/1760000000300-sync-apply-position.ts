import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SyncApplyPosition1760000000300 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sync_apply_position (
        client     text PRIMARY KEY REFERENCES sync_client (name),
        file_seq   integer NOT NULL DEFAULT 0 CHECK (file_seq >= 0),
        txn_seq    integer NOT NULL DEFAULT 0 CHECK (txn_seq >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sync_apply_position`);
  }
}
