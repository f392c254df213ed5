import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A client's credential epoch: every session token carries the epoch it was issued under, and
 * deactivating a client or rotating its secret bumps it, so the gateways refuse the sessions
 * opened before within their short cache of the registry's state.
 */
export class SyncClientCredentialEpoch1760000009100 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE sync_client ADD COLUMN credential_epoch integer NOT NULL DEFAULT 1 CHECK (credential_epoch >= 1)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sync_client DROP COLUMN credential_epoch`);
  }
}
