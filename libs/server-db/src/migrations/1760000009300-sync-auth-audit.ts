import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Resource limits. Every failed or refused session open is kept for the administrator (who is
 * guessing which secret, from where), and an inbox file records when a duplicate upload announced
 * it again, so a laptop that re-sends a held file wakes the applier once, not once per request.
 */
export class SyncAuthAudit1760000009300 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sync_auth_audit (
        id              bigserial PRIMARY KEY,
        at              timestamptz NOT NULL DEFAULT now(),
        client_name     text NOT NULL,
        source_address  text NOT NULL,
        outcome         text NOT NULL CHECK (outcome IN ('failed', 'refused')),
        code            text NOT NULL
      )`);
    await q.query(`CREATE INDEX sync_auth_audit_at_idx ON sync_auth_audit (at)`);
    await q.query(`CREATE INDEX sync_auth_audit_client_idx ON sync_auth_audit (client_name, at)`);
    await q.query(`ALTER TABLE sync_inbox_file ADD COLUMN reannounced_at timestamptz NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sync_inbox_file DROP COLUMN reannounced_at`);
    await q.query(`DROP TABLE sync_auth_audit`);
  }
}
