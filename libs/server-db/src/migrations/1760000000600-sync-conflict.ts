import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every conflict the applier resolved, kept for good (Siebel kept only the last session's). */
export class SyncConflict1760000000600 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sync_conflict (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        at              timestamptz NOT NULL DEFAULT now(),
        kind            text NOT NULL CHECK (kind IN ('update-update', 'update-delete', 'duplicate-key')),
        table_name      text NOT NULL,
        row_id          uuid NOT NULL,
        column_name     text NULL,
        server_value    jsonb NULL,
        client_value    jsonb NULL,
        server_origin   text NULL,
        client_origin   text NOT NULL,
        server_at       timestamptz NULL,
        client_at       timestamptz NOT NULL,
        policy          text NOT NULL,
        winner          text NOT NULL CHECK (winner IN ('server', 'client')),
        client_file_seq integer NOT NULL
      )`);
    await q.query(`CREATE INDEX sync_conflict_client_idx ON sync_conflict (client_origin, at)`);
    await q.query(`CREATE INDEX sync_conflict_row_idx ON sync_conflict (table_name, row_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sync_conflict`);
  }
}
