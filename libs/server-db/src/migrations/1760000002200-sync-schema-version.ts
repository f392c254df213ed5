import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which synced schema the database holds, and at which version: one row, written by the synced
 * schema migration in the transaction that creates or upgrades the tables. A database whose sales
 * tables an earlier migration 500 created, before versions existed, holds sales v1.
 * `sync_route_state.schema_version`: the version a client's holdings were routed under; the router
 * sends a client behind the server a partial re-extract of what the upgrade changed (null: v1).
 */
export class SyncSchemaVersion1760000002200 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sync_schema_version (
        singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        name       text NOT NULL,
        version    integer NOT NULL CHECK (version >= 1),
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      INSERT INTO sync_schema_version (name, version)
      SELECT 'sales', 1 WHERE to_regclass('public.opportunity') IS NOT NULL AND to_regclass('public.opportunity_team') IS NOT NULL`);
    await q.query(
      'ALTER TABLE sync_route_state ADD COLUMN schema_version integer NULL CHECK (schema_version >= 1)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sync_route_state DROP COLUMN schema_version');
    await q.query('DROP TABLE sync_schema_version');
  }
}
