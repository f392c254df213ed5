import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  postgresCaptureFunctionsDdl,
  postgresCaptureTriggersDdl,
  postgresPublicationDdl,
  postgresPublicationDropDdl,
  postgresVersionFunctionDdl,
  quoteIdent,
  salesHistory,
  CAPTURE_PUBLICATION,
  type Schema,
} from '@outpost/schema';

/**
 * The synced tables this migration finds: a database migrated before schema versions holds the
 * sales v1 tables with their capture triggers (migration 2200 recorded them); in any other the
 * synced tables do not exist yet: the synced-schema migration creates them after the platform
 * migrations, captured (version trigger, replica identity, publication).
 */
async function legacyTables(q: QueryRunner): Promise<Schema | null> {
  const rows = (await q.query('SELECT name, version FROM sync_schema_version')) as Array<{
    name: string;
    version: number;
  }>;
  return rows[0]?.name === 'sales' && rows[0].version === 1 ? salesHistory.at(1) : null;
}

/**
 * Capture moves from triggers that logged every row under one global lock to the router's reader
 * of the logical replication stream. The capture triggers and the lock go; the version trigger
 * stays (it only touches the row being written). The log and its seqs are kept: the capture
 * continues after its highest seq. The replication slot is created by the router at start, outside
 * any transaction (a slot cannot be created by a transaction that has written); on an existing
 * installation, writes committed between this migration and the slot are not in the stream, so the
 * router asks every client for a re-extract when it creates the slot over a non-empty log.
 */
export class LogicalCapture1760000002400 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const legacy = await legacyTables(q);
    for (const t of legacy?.tables ?? []) {
      await q.query(
        `DROP TRIGGER IF EXISTS ${quoteIdent(`${t.name}_sync_capture`)} ON ${quoteIdent(t.name)}`,
      );
    }
    await q.query('DROP FUNCTION IF EXISTS sync_capture_row()');
    await q.query('DROP FUNCTION IF EXISTS sync_log_lock()');
    await q.query(postgresVersionFunctionDdl());
    if (legacy) for (const sql of postgresPublicationDdl(legacy)) await q.query(sql);
    else await q.query(`CREATE PUBLICATION ${quoteIdent(CAPTURE_PUBLICATION)}`);
    // One row: the capture's slot and the stream position up to which the log is complete.
    // `partial_*` name a transaction too large for one batch: its first rows are already logged.
    await q.query(`
      CREATE TABLE sync_capture_position (
        id           boolean PRIMARY KEY DEFAULT true CHECK (id),
        slot_name    text NOT NULL,
        lsn          pg_lsn NOT NULL,
        partial_lsn  pg_lsn NULL,
        partial_rows integer NOT NULL DEFAULT 0 CHECK (partial_rows >= 0),
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
    // The version each client was last sent: a change that reaches the log after a snapshot or a
    // batch already carried it is not sent twice.
    await q.query('ALTER TABLE sync_route_holding ADD COLUMN version bigint NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sync_route_holding DROP COLUMN version');
    await q.query('DROP TABLE sync_capture_position');
    const legacy = await legacyTables(q);
    if (legacy) for (const sql of postgresPublicationDropDdl(legacy)) await q.query(sql);
    else await q.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(CAPTURE_PUBLICATION)}`);
    // The trigger capture as it was; the router's slot (if any) is dropped by an operator.
    for (const sql of postgresCaptureFunctionsDdl()) await q.query(sql);
    const triggers = legacy ? postgresCaptureTriggersDdl(legacy) : [];
    for (const sql of triggers.filter((s) => s.includes('_sync_capture'))) await q.query(sql);
  }
}
