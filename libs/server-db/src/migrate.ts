import type { DataSource } from 'typeorm';
import type { SchemaSelection } from '@outpost/schema';
import { createDataSource } from './data-source';
import { migrateSyncedSchema, type SyncedSchemaResult } from './synced-schema';

/** Arbitrary but fixed: every service that migrates takes this same lock. */
const MIGRATION_LOCK_KEY = '7302158940001';

export interface MigrateResult {
  /** Names of the migrations this call ran (empty when the database was up to date). */
  applied: string[];
  /** What happened to the synced tables, when a schema was given. */
  syncedSchema?: SyncedSchemaResult;
}

/**
 * Runs pending migrations under a session-level advisory lock, so services started at the same
 * moment migrate one at a time: the first runs them, the others find nothing left to do. With a
 * schema (the services that read or write synced tables pass `SCHEMA`'s), the synced tables are
 * then created or upgraded to its version under the same lock.
 */
export async function migrate(url: string, schema?: SchemaSelection): Promise<MigrateResult> {
  return withMigrationLock(url, async (ds) => {
    const ran = await ds.runMigrations({ transaction: 'each' });
    const result: MigrateResult = { applied: ran.map((m) => m.name) };
    if (schema) {
      const runner = ds.createQueryRunner();
      try {
        result.syncedSchema = await migrateSyncedSchema(runner, schema);
      } finally {
        await runner.release();
      }
    }
    return result;
  });
}

/** Reverts the most recent migration; for operators and tests of `down`. */
export async function revertLastMigration(url: string): Promise<void> {
  await withMigrationLock(url, (ds) => ds.undoLastMigration({ transaction: 'each' }));
}

async function withMigrationLock<T>(url: string, work: (ds: DataSource) => Promise<T>): Promise<T> {
  const ds = createDataSource(url, [], { poolSize: 2, applicationName: 'outpost-migrate' });
  await ds.initialize();
  const lockRunner = ds.createQueryRunner();
  try {
    await lockRunner.connect();
    await lockRunner.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      return await work(ds);
    } finally {
      await lockRunner.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lockRunner.release();
    await ds.destroy();
  }
}
