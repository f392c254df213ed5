import { LOG_TABLE } from '@outpost/schema';
import { LocalStore, StateKey } from './local-store';

/** One captured change as the triggers stored it. */
export interface LogEntry {
  seq: number;
  at: number;
  table_name: string;
  row_id: string;
  op: 'insert' | 'update' | 'delete';
  row_json: string | null;
  changes_json: string | null;
  base_version: number | null;
  file_seq: number | null;
}

/** Captured JSON read per page while an outbox file is built or checked. */
export const ENTRY_PAGE_BYTES = 16 * 1024 * 1024;

export type FileStatus = 'assigned' | 'written' | 'sent';
export interface OutboxFileRow {
  file_seq: number;
  first_seq: number;
  last_seq: number;
  count: number;
  created_at: string;
  user_login: string;
  status: FileStatus;
  sha256: string | null;
  bytes: number | null;
  sent_at: string | null;
  /** The store's schema version when the file was assigned (null: assigned before files carried one). */
  schema_version: number | null;
}

const ENTRY_COLUMNS = 'seq, at, table_name, row_id, op, row_json, changes_json, base_version, file_seq';
/** Stored size of an entry's captured JSON; octet_length reads it without loading the value. */
const ENTRY_BYTES = 'coalesce(octet_length(row_json), 0) + coalesce(octet_length(changes_json), 0)';
/** An entry stays until a confirm covers it; the newest confirmed one is kept as the seq high-water mark. */
const UNCONFIRMED = 'confirmed IS NULL';

/** Queries over the local transaction log and the outbox file table. */
export class LogRepository {
  constructor(private readonly store: LocalStore) {}

  private get db() {
    return this.store.db;
  }

  pendingCount(): number {
    return this.count(`SELECT count(*) AS n FROM ${LOG_TABLE} WHERE file_seq IS NULL AND ${UNCONFIRMED}`);
  }

  /** Entries in files the server acknowledged but has not confirmed as applied yet. */
  awaitingConfirmationCount(): number {
    return this.count(
      `SELECT count(*) AS n FROM ${LOG_TABLE} l JOIN _outpost_file f ON f.file_seq = l.file_seq
       WHERE l.${UNCONFIRMED} AND f.status = 'sent'`,
    );
  }

  /**
   * The next entries not yet in a file, in seq order: at most `limit` of them and `maxBytes` of
   * captured JSON (an entry larger than that goes alone), so no file outgrows what the server takes.
   */
  pendingSeqRange(
    limit: number,
    maxBytes = Number.MAX_SAFE_INTEGER,
  ): { first: number; last: number; count: number } | null {
    const row = this.db
      .prepare(
        `SELECT min(seq) AS first, max(seq) AS last, count(*) AS count FROM (
           SELECT seq, bytes, sum(bytes) OVER (ORDER BY seq) AS running FROM (
             SELECT seq, ${ENTRY_BYTES} AS bytes FROM ${LOG_TABLE}
              WHERE file_seq IS NULL AND ${UNCONFIRMED} ORDER BY seq LIMIT ?))
         WHERE running <= ? OR running = bytes`,
      )
      .get(limit, maxBytes) as { first: number | null; last: number; count: number };
    return row.first === null ? null : { first: row.first, last: row.last, count: row.count };
  }

  markExtracted(fileSeq: number, first: number, last: number): number {
    return this.db
      .prepare(
        `UPDATE ${LOG_TABLE} SET file_seq = ? WHERE file_seq IS NULL AND ${UNCONFIRMED} AND seq BETWEEN ? AND ?`,
      )
      .run(fileSeq, first, last).changes;
  }

  /** How many entries a file holds. */
  countOfFile(fileSeq: number): number {
    return (
      this.db.prepare(`SELECT count(*) AS n FROM ${LOG_TABLE} WHERE file_seq = ?`).get(fileSeq) as {
        n: number;
      }
    ).n;
  }

  /**
   * A file's entries in seq order, read a page of at most `maxBytes` of captured JSON at a time (a
   * larger entry alone), so a file of large rows is never held whole. Each page is read completely
   * before it is yielded: the connection is free while the caller works on it.
   */
  *entriesOfFile(fileSeq: number, maxBytes = ENTRY_PAGE_BYTES): Generator<LogEntry> {
    const sizes = this.db
      .prepare(
        `SELECT seq, ${ENTRY_BYTES} AS bytes
           FROM ${LOG_TABLE} WHERE file_seq = ? ORDER BY seq`,
      )
      .all(fileSeq) as Array<{ seq: number; bytes: number }>;
    const page = this.db.prepare(
      `SELECT ${ENTRY_COLUMNS} FROM ${LOG_TABLE} WHERE file_seq = ? AND seq BETWEEN ? AND ? ORDER BY seq`,
    );
    for (let i = 0; i < sizes.length;) {
      let end = i + 1;
      let bytes = sizes[i].bytes;
      while (end < sizes.length && bytes + sizes[end].bytes <= maxBytes) bytes += sizes[end++].bytes;
      yield* page.all(fileSeq, sizes[i].seq, sizes[end - 1].seq) as LogEntry[];
      i = end;
    }
  }

  unconfirmedCountOfFile(fileSeq: number): number {
    return (
      this.db
        .prepare(`SELECT count(*) AS n FROM ${LOG_TABLE} WHERE file_seq = ? AND ${UNCONFIRMED}`)
        .get(fileSeq) as { n: number }
    ).n;
  }

  unconfirmedEntries(): LogEntry[] {
    return this.db
      .prepare(`SELECT ${ENTRY_COLUMNS} FROM ${LOG_TABLE} WHERE ${UNCONFIRMED} ORDER BY seq`)
      .all() as LogEntry[];
  }

  unconfirmedEntriesOfRow(table: string, rowId: string): LogEntry[] {
    return this.db
      .prepare(
        `SELECT ${ENTRY_COLUMNS} FROM ${LOG_TABLE} WHERE ${UNCONFIRMED} AND table_name = ? AND row_id = ? ORDER BY seq`,
      )
      .all(table, rowId) as LogEntry[];
  }

  /** Row keys (`table\u0000id`) with unconfirmed local changes: loaded once per downloaded file. */
  rowsWithUnconfirmedChanges(): Set<string> {
    const rows = this.db
      .prepare(`SELECT DISTINCT table_name, row_id FROM ${LOG_TABLE} WHERE ${UNCONFIRMED}`)
      .raw()
      .all() as [string, string][];
    return new Set(rows.map(([t, id]) => rowKey(t, id)));
  }

  /**
   * The server applied our transactions up to `upTo`. Only entries already put in a file can be covered:
   * a confirm never swallows a change the server cannot have seen.
   */
  confirmUpTo(upTo: number): number {
    const confirmed = this.db
      .prepare(
        `UPDATE ${LOG_TABLE} SET confirmed = 1 WHERE ${UNCONFIRMED} AND file_seq IS NOT NULL AND seq <= ?`,
      )
      .run(upTo).changes;
    this.db
      .prepare(`DELETE FROM ${LOG_TABLE} WHERE confirmed = 1 AND seq < (SELECT max(seq) FROM ${LOG_TABLE})`)
      .run();
    return confirmed;
  }

  nextFileSeq(): number {
    const base = Number(this.store.getState(StateKey.fileSeqBase) ?? 0);
    return Math.max(base, this.count('SELECT coalesce(max(file_seq), 0) AS n FROM _outpost_file')) + 1;
  }

  insertFile(
    row: Pick<
      OutboxFileRow,
      'file_seq' | 'first_seq' | 'last_seq' | 'count' | 'created_at' | 'user_login' | 'schema_version'
    >,
  ): void {
    this.db
      .prepare(
        `INSERT INTO _outpost_file (file_seq, first_seq, last_seq, count, created_at, user_login, status, schema_version)
         VALUES (@file_seq, @first_seq, @last_seq, @count, @created_at, @user_login, 'assigned', @schema_version)`,
      )
      .run(row);
  }

  filesWithStatus(...statuses: FileStatus[]): OutboxFileRow[] {
    return this.db
      .prepare(
        `SELECT * FROM _outpost_file WHERE status IN (${statuses.map(() => '?').join(', ')}) ORDER BY file_seq`,
      )
      .all(...statuses) as OutboxFileRow[];
  }

  markWritten(fileSeq: number, sha256: string, bytes: number): void {
    this.db
      .prepare(`UPDATE _outpost_file SET status = 'written', sha256 = ?, bytes = ? WHERE file_seq = ?`)
      .run(sha256, bytes, fileSeq);
  }

  /** Files the server acknowledged before `at` (ISO-8601, as `sent_at` is stored). */
  sentBefore(at: string): OutboxFileRow[] {
    return this.db
      .prepare(`SELECT * FROM _outpost_file WHERE status = 'sent' AND sent_at < ? ORDER BY file_seq`)
      .all(at) as OutboxFileRow[];
  }

  markSent(fileSeq: number, at: string): void {
    this.db
      .prepare(`UPDATE _outpost_file SET status = 'sent', sent_at = ? WHERE file_seq = ?`)
      .run(at, fileSeq);
  }

  private count(sql: string): number {
    return (this.db.prepare(sql).get() as { n: number }).n;
  }
}

export function rowKey(table: string, id: string): string {
  return `${table}\u0000${id}`;
}
