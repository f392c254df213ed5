import type { Schema } from '../types';
import { quoteIdent } from './ddl';

/**
 * Change capture from Postgres's own commit-ordered change stream (logical decoding, `pgoutput`).
 * Nothing is added to an application's writes but the version bump below: no log insert, no lock.
 */

/** The publication of the synced tables that the capture slot decodes. One per database. */
export const CAPTURE_PUBLICATION = 'outpost_sync';

/**
 * Prefix of the transactional messages (`pg_logical_emit_message(true, ...)`) the applier writes
 * into its file transactions; the stream delivers them in place, between the rows they describe.
 */
export const CAPTURE_MESSAGE_PREFIX = 'outpost';

/**
 * Prefix of the non-transactional probe message: the stream delivers it after every transaction
 * that committed before it, so "the capture has passed the probe" means "everything committed
 * before the probe is in the log".
 */
export const CAPTURE_PROBE_PREFIX = 'outpost-probe';

/** What the applier tells the capture, in stream order inside its transaction. */
export type CaptureMessage =
  /** The rows that follow came from this client's file (and user); a file opens with one. */
  | { kind: 'origin'; client: string; user: string | null }
  /** The client's transactions up to `upTo` are applied: a confirm row for the router. */
  | { kind: 'confirm'; client: string; upTo: number }
  /** Rows whose server result goes back to their origin (it lost a conflict). */
  | {
      kind: 'echo';
      client: string;
      upTo: number;
      rows: Array<{ table: string; id: string; op: 'update' | 'delete'; user: string }>;
    };

/**
 * Versions stay correct for every writer, synchronously: a BEFORE UPDATE row trigger that only
 * changes the row being written (no other table, no lock). The applier writes the client's change
 * time into updated_at; any writer that leaves updated_at as it was gets the time of the write.
 */
export function postgresVersionFunctionDdl(): string {
  return `CREATE OR REPLACE FUNCTION sync_bump_version() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.row_version := OLD.row_version + 1;
  IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END
$fn$`;
}

/**
 * The synced tables published with their whole old row (REPLICA IDENTITY FULL): updates and
 * deletes carry the old visibility columns (eviction) and a deleted row's last values (resurrect).
 */
export function postgresPublicationDdl(schema: Schema): string[] {
  const tables = schema.tables.map((t) => quoteIdent(t.name));
  return [
    ...tables.map((t) => `ALTER TABLE ${t} REPLICA IDENTITY FULL`),
    `CREATE PUBLICATION ${quoteIdent(CAPTURE_PUBLICATION)} FOR TABLE ${tables.join(', ')}`,
  ];
}

export function postgresPublicationDropDdl(schema: Schema): string[] {
  return [
    `DROP PUBLICATION IF EXISTS ${quoteIdent(CAPTURE_PUBLICATION)}`,
    ...schema.tables.map((t) => `ALTER TABLE ${quoteIdent(t.name)} REPLICA IDENTITY DEFAULT`),
  ];
}

/**
 * The default slot name for a database: slots are per server, so two databases on one server
 * (tests, several installations) never share one. Slot names allow [a-z0-9_], at most 63 chars.
 */
export function defaultCaptureSlot(database: string): string {
  const clean = database.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const name = `outpost_capture_${clean}`;
  if (name.length <= 63) return name;
  let hash = 0;
  for (const ch of database) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) >>> 0;
  return `${name.slice(0, 54)}_${hash.toString(16).padStart(8, '0')}`;
}
