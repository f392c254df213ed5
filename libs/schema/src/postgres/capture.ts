import type { Schema } from '../types';
import { quoteIdent, visibilityColumns } from './ddl';

/**
 * Key of the transaction-level advisory lock every writer of sync_txn_log holds from its first log
 * row until it commits. Log seqs are drawn under the lock, so seq order is commit order and a
 * reader that follows `seq > watermark` never skips a row that commits later.
 */
export const SYNC_LOG_LOCK_KEY = '7302158940002';

/** Transaction-local settings the capture trigger reads; direct SQL leaves them unset (no origin). */
export const CAPTURE_SETTINGS = {
  originClient: 'outpost.origin_client',
  originUser: 'outpost.origin_user',
  /** Set once the transaction holds the log lock, so the lock is taken once, not once per row. */
  logLocked: 'outpost.log_locked',
} as const;

/** The shared capture functions; created once, before any table trigger. */
export function postgresCaptureFunctionsDdl(): string[] {
  return [
    `CREATE OR REPLACE FUNCTION sync_log_lock() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  IF current_setting('${CAPTURE_SETTINGS.logLocked}', true) IS DISTINCT FROM '1' THEN
    PERFORM pg_advisory_xact_lock(${SYNC_LOG_LOCK_KEY});
    PERFORM set_config('${CAPTURE_SETTINGS.logLocked}', '1', true);
  END IF;
END
$fn$`,
    `CREATE OR REPLACE FUNCTION sync_bump_version() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.row_version := OLD.row_version + 1;
  -- The applier writes the client's change time; every other writer gets the time of the write.
  IF nullif(current_setting('${CAPTURE_SETTINGS.originClient}', true), '') IS NULL
     OR NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END
$fn$`,
    // Trigger arguments name the visibility columns whose old values the router needs.
    `CREATE OR REPLACE FUNCTION sync_capture_row() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  refs jsonb := NULL;
  rid uuid;
BEGIN
  PERFORM sync_log_lock();
  IF TG_OP = 'INSERT' THEN
    rid := NEW.id;
  ELSE
    rid := OLD.id;
    IF TG_NARGS > 0 THEN
      SELECT jsonb_object_agg(e.key, e.value) INTO refs FROM jsonb_each(to_jsonb(OLD)) e WHERE e.key = ANY (TG_ARGV);
    END IF;
  END IF;
  INSERT INTO sync_txn_log (table_name, row_id, op, origin_client, origin_user, old_refs, old_row)
  VALUES (TG_TABLE_NAME, rid, lower(TG_OP),
          nullif(current_setting('${CAPTURE_SETTINGS.originClient}', true), ''),
          nullif(current_setting('${CAPTURE_SETTINGS.originUser}', true), ''),
          refs,
          CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) END);
  RETURN NULL;
END
$fn$`,
  ];
}

export function postgresCaptureFunctionsDropDdl(): string[] {
  return [
    'DROP FUNCTION IF EXISTS sync_capture_row()',
    'DROP FUNCTION IF EXISTS sync_bump_version()',
    'DROP FUNCTION IF EXISTS sync_log_lock()',
  ];
}

/** Row-level triggers on every synced table: version bump before update, log row after each change. */
export function postgresCaptureTriggersDdl(schema: Schema): string[] {
  return schema.tables.flatMap((t) => {
    const table = quoteIdent(t.name);
    const args = visibilityColumns(schema, t)
      .map((c) => `'${c}'`)
      .join(', ');
    return [
      `CREATE TRIGGER ${quoteIdent(`${t.name}_sync_version`)} BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION sync_bump_version()`,
      `CREATE TRIGGER ${quoteIdent(`${t.name}_sync_capture`)} AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION sync_capture_row(${args})`,
    ];
  });
}

export function postgresCaptureTriggersDropDdl(schema: Schema): string[] {
  return schema.tables.flatMap((t) => [
    `DROP TRIGGER IF EXISTS ${quoteIdent(`${t.name}_sync_capture`)} ON ${quoteIdent(t.name)}`,
    `DROP TRIGGER IF EXISTS ${quoteIdent(`${t.name}_sync_version`)} ON ${quoteIdent(t.name)}`,
  ]);
}
