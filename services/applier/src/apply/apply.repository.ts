import type { PoolClient } from 'pg';
import type { DxRow } from '@outpost/dx-format';
import { CAPTURE_MESSAGE_PREFIX, type CaptureMessage, type TableDef } from '@outpost/schema';
import { captureBarrier } from '@outpost/server-db';
import { emitCaptureMessage } from './capture-message';
import { rowKey, type ConflictRecord, type ServerRow } from './chunk-types';
import { businessKey } from './duplicate-keys';
import type { TableSql } from './table-sql';
import type { Refusal } from './write-guard';

/** The file being applied, as its bookkeeping statements name it. */
export interface FileRef {
  client: string;
  user: string;
  fileSeq: number;
}

/** How long a conflict lookup waits for the capture to log what committed before it. */
const CAPTURE_WAIT_MS = 5_000;

/**
 * Every statement of one file's apply, on the file's transaction; `TableSql` builds the per-table
 * ones. Values always travel as parameters, arrays through unnest(), so each statement carries a
 * whole chunk.
 */
export class ApplyRepository {
  constructor(
    private readonly db: PoolClient,
    private readonly tables: Map<string, TableSql>,
  ) {}

  /** The file's connection, for the write guard's own visibility queries. */
  get connection(): PoolClient {
    return this.db;
  }

  /** The rows of `ids` per table, locked until the file commits. */
  async lockRows(ids: Map<TableSql, string[]>): Promise<Map<string, ServerRow>> {
    const loaded = new Map<string, ServerRow>();
    for (const [sql, list] of ids) {
      if (list.length === 0) continue;
      const res = await this.db.query(sql.select(list));
      for (const r of res.rows as Record<string, unknown>[]) {
        const { id, row } = sql.decode(r);
        loaded.set(rowKey(sql.table.name, id), row);
      }
    }
    return loaded;
  }

  /** The last values of deleted rows, from their delete log rows. */
  async lastDeleted(sql: TableSql, ids: string[]): Promise<Map<string, DxRow>> {
    const out = new Map<string, DxRow>();
    const res = await this.db.query(sql.lastDeleted(ids));
    for (const r of res.rows as Record<string, unknown>[]) {
      const { id, row } = sql.decode(r);
      out.set(rowKey(sql.table.name, id), row.values);
    }
    return out;
  }

  /** For each row, the origins of its `n` latest inserts and updates in the log, newest first. */
  async recentOrigins(
    rows: Array<{ table: string; id: string; n: number }>,
  ): Promise<Map<string, Array<string | null>>> {
    const res = await this.db.query(
      `SELECT r.t AS table_name, r.id::text AS row_id, l.origin_client
         FROM unnest($1::text[], $2::uuid[], $3::int[]) AS r(t, id, n)
         CROSS JOIN LATERAL (
           SELECT origin_client, seq FROM sync_txn_log
            WHERE row_id = r.id AND table_name = r.t AND op IN ('insert', 'update')
            ORDER BY seq DESC LIMIT r.n) l
        ORDER BY r.t, r.id, l.seq DESC`,
      [rows.map((x) => x.table), rows.map((x) => x.id), rows.map((x) => x.n)],
    );
    const out = new Map<string, Array<string | null>>();
    for (const r of res.rows as Array<{ table_name: string; row_id: string; origin_client: string | null }>) {
      const key = rowKey(r.table_name, r.row_id);
      out.set(key, [...(out.get(key) ?? []), r.origin_client]);
    }
    return out;
  }

  /** Who last changed each row, by the log (null: direct SQL). */
  async lastOrigins(rows: Array<{ table: string; rowId: string }>): Promise<Map<string, string | null>> {
    const res = await this.db.query(
      `SELECT DISTINCT ON (table_name, row_id) table_name, row_id::text AS row_id, origin_client
         FROM sync_txn_log
        WHERE (row_id, table_name) IN (SELECT * FROM unnest($1::uuid[], $2::text[])) AND op <> 'confirm'
        ORDER BY table_name, row_id, seq DESC`,
      [rows.map((c) => c.rowId), rows.map((c) => c.table)],
    );
    const out = new Map<string, string | null>();
    for (const r of res.rows as Array<{ table_name: string; row_id: string; origin_client: string | null }>) {
      out.set(rowKey(r.table_name, r.row_id), r.origin_client);
    }
    return out;
  }

  /** Unmarked rows outside `exclude` holding one of `keys`: business key -> holder id. */
  async keyHolders(table: TableDef, keys: DxRow[], exclude: string[]): Promise<Map<string, string>> {
    const sql = this.tables.get(table.name) as TableSql;
    const res = await this.db.query(sql.keyHolders(keys, exclude));
    const map = new Map<string, string>();
    for (const r of res.rows as Record<string, unknown>[]) {
      const { id, values } = sql.keyRow(r);
      const key = businessKey(table, values);
      if (key !== null) map.set(key, id);
    }
    return map;
  }

  /** The ids among `ids` that exist in the table now. */
  async existing(sql: TableSql, ids: string[]): Promise<Set<string>> {
    const res = await this.db.query(
      `SELECT id::text AS id FROM ${sql.quotedName} WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Set((res.rows as Array<{ id: string }>).map((r) => r.id));
  }

  async write(query: { text: string; values: unknown[] }): Promise<void> {
    await this.db.query(query);
  }

  async savepoint(): Promise<void> {
    await this.db.query('SAVEPOINT outpost_chunk');
  }

  async releaseSavepoint(): Promise<void> {
    await this.db.query('RELEASE SAVEPOINT outpost_chunk');
  }

  async rollbackToSavepoint(): Promise<void> {
    await this.db.query('ROLLBACK TO SAVEPOINT outpost_chunk');
  }

  async emit(message: CaptureMessage): Promise<void> {
    await emitCaptureMessage(this.db, message);
  }

  /**
   * Makes the log complete up to now before it is read for conflict details: the rows in question
   * are locked, so every change to them is committed and only needs to reach the log. When the
   * capture does not answer in time the details are read as they are (a delete then counts as
   * conflicting, a server origin stays unknown): never wrong data, at worst a conservative record.
   */
  async awaitCapture(): Promise<void> {
    await captureBarrier(this.db, { timeoutMs: CAPTURE_WAIT_MS });
  }

  async insertConflicts(
    file: FileRef,
    conflicts: ConflictRecord[],
    origins: Map<string, string | null>,
  ): Promise<void> {
    if (conflicts.length === 0) return;
    await this.db.query(
      `INSERT INTO sync_conflict (kind, table_name, row_id, column_name, server_value, client_value, server_origin,
                                  client_origin, server_at, client_at, policy, winner, client_file_seq, client_at_clamped)
       SELECT k, t, r, c, sv, cv, so, $8, sa, ca, p, w, $13, cc
         FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[], $7::text[],
                     $9::timestamptz[], $10::timestamptz[], $11::text[], $12::text[], $14::timestamptz[])
           AS x(k, t, r, c, sv, cv, so, sa, ca, p, w, cc)`,
      [
        conflicts.map((c) => c.kind),
        conflicts.map((c) => c.table),
        conflicts.map((c) => c.rowId),
        conflicts.map((c) => c.column),
        conflicts.map((c) => JSON.stringify(c.serverValue ?? null)),
        conflicts.map((c) => JSON.stringify(c.clientValue ?? null)),
        conflicts.map((c) => origins.get(rowKey(c.table, c.rowId)) ?? null),
        file.client,
        conflicts.map((c) => c.serverAt),
        conflicts.map((c) => c.clientAt),
        conflicts.map((c) => c.policy),
        conflicts.map((c) => c.winner),
        file.fileSeq,
        conflicts.map((c) => c.clientAtClamped),
      ],
    );
  }

  async insertRefusals(file: FileRef, refusals: Refusal[]): Promise<void> {
    if (refusals.length === 0) return;
    await this.db.query(
      `INSERT INTO sync_refusal (client, user_login, file_seq, txn_seq, table_name, row_id, op, code, reason)
       SELECT $1, $2, $3, s, t, r, o, c, m
         FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS x(s, t, r, o, c, m)`,
      [
        file.client,
        file.user,
        file.fileSeq,
        refusals.map((r) => r.txn.tx.seq),
        refusals.map((r) => String(r.txn.tx.table)),
        refusals.map((r) => String(r.txn.tx.id)),
        refusals.map((r) => String(r.txn.tx.op)),
        refusals.map((r) => r.code),
        refusals.map((r) => r.reason),
      ],
    );
  }

  /**
   * The file's bookkeeping in one round trip: the confirm message (`lastSeq` null for a file
   * without transactions: nothing to confirm), the client's apply position and the file's status.
   */
  async finish(file: FileRef, txnSeq: number, lastSeq: number | null): Promise<void> {
    const params: unknown[] = [file.client, file.fileSeq, lastSeq ?? txnSeq];
    const bookkeeping = `
      UPDATE sync_apply_position SET file_seq = $2, txn_seq = $3, updated_at = now() WHERE client = $1`;
    let from = '';
    if (lastSeq !== null) {
      const confirm: CaptureMessage = { kind: 'confirm', client: file.client, upTo: lastSeq };
      params.push(CAPTURE_MESSAGE_PREFIX, JSON.stringify(confirm));
      from = 'FROM (SELECT pg_logical_emit_message(true, $4, $5::text)) AS confirm';
    }
    await this.db.query(
      `WITH position AS (${bookkeeping})
       UPDATE sync_inbox_file SET status = 'applied', applied_at = now(), reason = NULL ${from}
        WHERE client = $1 AND file_seq = $2`,
      params,
    );
  }
}
