import type { MigrationInterface, QueryRunner } from 'typeorm';
import { postgresCaptureFunctionsDdl, postgresCaptureFunctionsDropDdl } from '@outpost/schema';

/**
 * The capture functions the synced tables' triggers call. The synced tables themselves are not a
 * migration of this list: they belong to the schema `SCHEMA` names and are created and upgraded
 * from its versions by `migrate()` (see synced-schema.ts). Databases migrated before that hold the
 * sales tables from an earlier form of this migration; migration 2200 records them as sales v1.
 */
export class SyncedTables1760000000500 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    for (const sql of postgresCaptureFunctionsDdl()) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of postgresCaptureFunctionsDropDdl()) await q.query(sql);
  }
}
