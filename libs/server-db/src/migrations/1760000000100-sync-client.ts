import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SyncClient1760000000100 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sync_client (
        name                 text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
        user_login           text NOT NULL CHECK (user_login <> ''),
        status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated')),
        secret_hash          text NOT NULL,
        created_at           timestamptz NOT NULL DEFAULT now(),
        last_sync_at         timestamptz NULL,
        last_sync_result     jsonb NULL,
        extract_requested_at timestamptz NULL
      )`);
    await q.query(`CREATE INDEX sync_client_user_login_idx ON sync_client (user_login)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sync_client`);
  }
}
