import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  postgresCaptureFunctionsDdl,
  postgresCaptureFunctionsDropDdl,
  postgresCaptureTriggersDdl,
  postgresCaptureTriggersDropDdl,
  postgresSchemaDdl,
  postgresSchemaDropDdl,
  salesSchema,
} from '@outpost/schema';

/**
 * The synced tables of the sales schema and their capture triggers, generated from the schema
 * definition. A later change to the definition needs its own migration (ALTER), not an edit here.
 */
export class SyncedTables1760000000500 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    for (const sql of [
      ...postgresSchemaDdl(salesSchema),
      ...postgresCaptureFunctionsDdl(),
      ...postgresCaptureTriggersDdl(salesSchema),
    ]) {
      await q.query(sql);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of [
      ...postgresCaptureTriggersDropDdl(salesSchema),
      ...postgresSchemaDropDdl(salesSchema),
      ...postgresCaptureFunctionsDropDdl(),
    ]) {
      await q.query(sql);
    }
  }
}
