import type { QueryRunner } from 'typeorm';
import {
  postgresCreateSchemaDdl,
  postgresUpgradeDdl,
  selectSchema,
  type SchemaSelection,
} from '@outpost/schema';
import type { VarSpec } from '@outpost/server-kit';

/** `SCHEMA`: the synced schema every service of a deployment runs, `name` (latest) or `name@version`. */
export const syncedSchemaVar: VarSpec<SchemaSelection> = {
  env: 'SCHEMA',
  description: 'the synced schema, NAME (its latest version) or NAME@VERSION',
  default: selectSchema('sales'),
  parse: selectSchema,
};

/** The database holds another schema, or a newer version than this service runs: it must not start. */
export class SyncedSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncedSchemaError';
  }
}

export interface SyncedSchemaResult {
  /** Version the database held before (null: it held no synced tables). */
  from: number | null;
  to: number;
}

/**
 * Brings the synced tables to the selected version: creates them at that version in an empty
 * database, or applies each later version's steps in its own transaction with the recorded
 * version, so a failed step leaves the database at the previous version, whole. Runs under the
 * migration lock (one service upgrades; the others find it done).
 */
export async function migrateSyncedSchema(
  q: QueryRunner,
  selection: SchemaSelection,
): Promise<SyncedSchemaResult> {
  const { history, version } = selection;
  const rows = (await q.query('SELECT name, version FROM sync_schema_version')) as Array<{
    name: string;
    version: number;
  }>;
  const held = rows[0];
  if (!held) {
    await inTransaction(q, async () => {
      for (const sql of postgresCreateSchemaDdl(selection.schema)) await q.query(sql);
      await q.query('INSERT INTO sync_schema_version (name, version) VALUES ($1, $2)', [
        history.name,
        version,
      ]);
    });
    return { from: null, to: version };
  }
  if (held.name !== history.name) {
    throw new SyncedSchemaError(
      `the database holds synced schema "${held.name}" v${held.version}, but SCHEMA selects "${history.name}"; ` +
        `set SCHEMA=${held.name} (a database holds one synced schema)`,
    );
  }
  if (held.version > version) {
    throw new SyncedSchemaError(
      `the database holds ${held.name} v${held.version}, newer than the v${version} this service runs; ` +
        `deploy the services built for v${held.version} (or set SCHEMA=${held.name}@${held.version})`,
    );
  }
  for (const step of history.stepsBetween(held.version, version)) {
    const ddl = postgresUpgradeDdl(history.at(step.version), step.steps);
    await inTransaction(q, async () => {
      for (const sql of ddl) await q.query(sql);
      await q.query('UPDATE sync_schema_version SET version = $1, applied_at = now()', [step.version]);
    });
  }
  return { from: held.version, to: version };
}

async function inTransaction(q: QueryRunner, work: () => Promise<void>): Promise<void> {
  await q.startTransaction();
  try {
    await work();
    await q.commitTransaction();
  } catch (err) {
    await q.rollbackTransaction();
    throw err;
  }
}
