import type { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import {
  DxFormatError,
  DxReader,
  type DxHeader,
  type DxRow,
  type DxUploadTransaction,
} from '@outpost/dx-format';
import { CAPTURE_SETTINGS, dxKey, type Schema, type TableDef } from '@outpost/schema';
import { ApplyRejection, ApplyRejectionCode } from './apply-rejection';
import {
  businessKey,
  keyCandidates,
  markDuplicateKeys,
  resolveChunk,
  rowKey,
  type ConflictRecord,
  type IndexedTxn,
  type RowOutcome,
  type RowValues,
  type ServerRow,
} from './chunk-resolver';
import { TableSql } from './table-sql';

export interface InboxFile {
  client: string;
  fileSeq: number;
  objectKey: string;
}

export interface ApplyPosition {
  fileSeq: number;
  txnSeq: number;
}

export interface FileApplyResult {
  header: DxHeader;
  txnCount: number;
  conflicts: number;
  echoes: number;
}

export interface FileApplierOptions {
  /** Transactions resolved and written together. */
  chunkTxns: number;
  /** Called after each chunk is written, before the next is read (fault injection in tests). */
  afterChunk?: (chunksWritten: number) => Promise<void> | void;
}

interface Echo {
  table: TableDef;
  id: string;
  user: string;
}

/**
 * Applies one upload file inside the caller's open transaction, in chunks: load the chunk's rows
 * (FOR UPDATE), resolve its transactions in memory, write each table with one delete and one
 * upsert statement. The file's confirm row goes into the log after the data and before its echo
 * rows, and the client's apply position and the file's inbox status move in the same statement.
 * Throws ApplyRejection for a file that can never apply; anything else is transient.
 *
 * The first write takes the log lock (every log writer serialises on it until commit), so every
 * read, conflict record and statement parameter of a chunk is ready before its first write: under
 * the lock a single-chunk file only runs its writes, its bookkeeping statement and the commit.
 */
export class FileApplier {
  private readonly tables: Map<string, TableSql>;

  constructor(
    private readonly schema: Schema,
    private readonly options: FileApplierOptions,
  ) {
    this.tables = new Map(schema.tables.map((t) => [t.name, new TableSql(t)]));
  }

  async apply(
    db: PoolClient,
    file: InboxFile,
    position: ApplyPosition,
    input: Readable,
  ): Promise<FileApplyResult> {
    const run = new FileRun(this.schema, this.tables, this.options, db, file);
    try {
      return await run.apply(input, position);
    } catch (err) {
      if (err instanceof DxFormatError) {
        throw new ApplyRejection(
          ApplyRejectionCode.DxInvalid,
          `file ${describe(file)} is not a valid DX file: ${err.message}`,
        );
      }
      throw err;
    }
  }
}

function describe(file: InboxFile): string {
  return `${file.client}/${file.fileSeq}`;
}

interface Write {
  user: string;
  query: { text: string; values: unknown[] };
}

class FileRun {
  private readonly echoes = new Map<string, Echo>();
  /** The origin_user setting of the transaction, once set. */
  private originUser: string | undefined;
  private conflictCount = 0;
  private chunksWritten = 0;

  constructor(
    private readonly schema: Schema,
    private readonly tables: Map<string, TableSql>,
    private readonly options: FileApplierOptions,
    private readonly db: PoolClient,
    private readonly file: InboxFile,
  ) {}

  async apply(input: Readable, position: ApplyPosition): Promise<FileApplyResult> {
    const reader = DxReader.open(input);
    const header = await reader.header();
    this.checkHeader(header, position);
    await this.db.query(`SELECT set_config($1, $2, true)`, [CAPTURE_SETTINGS.originClient, this.file.client]);
    let chunk: IndexedTxn[] = [];
    let index = 0;
    let expected = position.txnSeq + 1;
    for await (const tx of reader) {
      if (tx.seq !== expected) {
        throw new ApplyRejection(
          ApplyRejectionCode.SeqNotContiguous,
          `file ${describe(this.file)} transaction #${index} has seq ${tx.seq}, expected ${expected}; the client's transaction log skipped or repeated a seq — re-extract the client`,
        );
      }
      expected += 1;
      chunk.push({ index, tx: tx as DxUploadTransaction });
      index += 1;
      if (chunk.length >= this.options.chunkTxns) {
        await this.applyChunk(chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) await this.applyChunk(chunk);
    // Iteration completed: the trailer's checksum and counts held, the data above can be committed.
    await this.finish(position, index > 0 ? header.lastSeq : null);
    if (index > 0) await this.writeEchoes(header.lastSeq);
    return { header, txnCount: index, conflicts: this.conflictCount, echoes: this.echoes.size };
  }

  private checkHeader(header: DxHeader, position: ApplyPosition): void {
    const problems: string[] = [];
    if (header.client !== this.file.client)
      problems.push(`header client "${header.client}" is not the uploading client "${this.file.client}"`);
    if (header.fileSeq !== this.file.fileSeq)
      problems.push(`header fileSeq ${header.fileSeq} is not the inbox file seq ${this.file.fileSeq}`);
    if (header.direction !== 'upload')
      problems.push(`header direction is "${header.direction}", not "upload"`);
    if (problems.length > 0) {
      throw new ApplyRejection(
        ApplyRejectionCode.HeaderMismatch,
        `file ${describe(this.file)}: ${problems.join('; ')}; the file was misfiled or written by another client — re-upload the right file`,
      );
    }
    if (header.count > 0 && header.firstSeq !== position.txnSeq + 1) {
      throw new ApplyRejection(
        ApplyRejectionCode.SeqNotContiguous,
        `file ${describe(this.file)} starts at transaction seq ${header.firstSeq} but the server applied up to ${position.txnSeq} (file ${position.fileSeq}); transactions ${position.txnSeq + 1}..${header.firstSeq - 1} are missing — re-extract the client`,
      );
    }
  }

  private async applyChunk(txns: IndexedTxn[]): Promise<void> {
    const loaded = await this.loadRows(txns);
    const recentOrigins = await this.loadRecentOrigins(txns, loaded);
    const deleted = await this.loadDeletedRows(txns, loaded);
    const { outcomes, conflicts } = resolveChunk(
      { schema: this.schema, client: this.file.client, loaded, recentOrigins, deleted },
      txns,
    );
    const atOf = new Map(txns.map((t) => [t.index, t.tx.at]));
    const holders = await this.loadKeyHolders(outcomes);
    conflicts.push(...markDuplicateKeys(outcomes, holders, (i) => atOf.get(i) ?? new Date().toISOString()));
    const origins = await this.lastOrigins(conflicts);
    // sync_conflict is not captured: recording conflicts before the writes keeps them off the lock.
    await this.recordConflicts(conflicts, origins);
    await this.write(this.statements(outcomes));
    for (const o of outcomes) {
      if (o.echo) this.echoes.set(rowKey(o.table.name, o.id), { table: o.table, id: o.id, user: o.user });
    }
    this.conflictCount += conflicts.length;
    this.chunksWritten += 1;
    await this.options.afterChunk?.(this.chunksWritten);
  }

  private idsByTable(txns: IndexedTxn[]): Map<TableSql, string[]> {
    const out = new Map<TableSql, Set<string>>();
    for (const { tx } of txns) {
      const sql = this.tables.get(tx.table);
      if (!sql) continue; // the resolver rejects it with its position
      let ids = out.get(sql);
      if (!ids) out.set(sql, (ids = new Set()));
      ids.add(tx.id);
    }
    return new Map([...out].map(([k, v]) => [k, [...v]]));
  }

  private async loadRows(txns: IndexedTxn[]): Promise<Map<string, ServerRow>> {
    const loaded = new Map<string, ServerRow>();
    for (const [sql, ids] of this.idsByTable(txns)) {
      const valid = ids.filter((id) => UUID.test(id));
      if (valid.length === 0) continue;
      const res = await this.db.query(sql.select(valid));
      for (const r of res.rows as Record<string, unknown>[]) {
        const { id, row } = sql.decode(r);
        loaded.set(rowKey(sql.table.name, id), row);
      }
    }
    return loaded;
  }

  /** For updates of rows the server deleted, in tables that resurrect: the rows' last values. */
  private async loadDeletedRows(
    txns: IndexedTxn[],
    loaded: Map<string, ServerRow>,
  ): Promise<Map<string, DxRow>> {
    const byTable = new Map<TableSql, Set<string>>();
    for (const { tx } of txns) {
      const sql = this.tables.get(tx.table);
      if (tx.op !== 'update' || !sql || sql.table.conflict.delete !== 'resurrect' || !UUID.test(tx.id))
        continue;
      if (loaded.has(rowKey(tx.table, tx.id))) continue;
      const ids = byTable.get(sql) ?? new Set<string>();
      byTable.set(sql, ids.add(tx.id));
    }
    const out = new Map<string, DxRow>();
    for (const [sql, ids] of byTable) {
      const res = await this.db.query(sql.lastDeleted([...ids]));
      for (const r of res.rows as Record<string, unknown>[]) {
        const { id, row } = sql.decode(r);
        out.set(rowKey(sql.table.name, id), row.values);
      }
    }
    return out;
  }

  /** For deletes based on an older version than the server's: who made the changes since. */
  private async loadRecentOrigins(
    txns: IndexedTxn[],
    loaded: Map<string, ServerRow>,
  ): Promise<Map<string, Array<string | null>>> {
    const need = new Map<string, { table: string; id: string; n: number }>();
    for (const { tx } of txns) {
      if (tx.op !== 'delete') continue;
      const key = rowKey(tx.table, tx.id);
      const row = loaded.get(key);
      const n = row ? row.version - (tx.base ?? 1) : 0;
      if (n > 0 && n > (need.get(key)?.n ?? 0)) need.set(key, { table: tx.table, id: tx.id, n });
    }
    const out = new Map<string, Array<string | null>>();
    if (need.size === 0) return out;
    const list = [...need.values()];
    const res = await this.db.query(
      `SELECT r.t AS table_name, r.id::text AS row_id, l.origin_client
         FROM unnest($1::text[], $2::uuid[], $3::int[]) AS r(t, id, n)
         CROSS JOIN LATERAL (
           SELECT origin_client, seq FROM sync_txn_log
            WHERE row_id = r.id AND table_name = r.t AND op IN ('insert', 'update')
            ORDER BY seq DESC LIMIT r.n) l
        ORDER BY r.t, r.id, l.seq DESC`,
      [list.map((x) => x.table), list.map((x) => x.id), list.map((x) => x.n)],
    );
    for (const r of res.rows as Array<{ table_name: string; row_id: string; origin_client: string | null }>) {
      const key = rowKey(r.table_name, r.row_id);
      const origins = out.get(key) ?? [];
      origins.push(r.origin_client);
      out.set(key, origins);
    }
    return out;
  }

  private async loadKeyHolders(outcomes: RowOutcome[]): Promise<Map<string, Map<string, string>>> {
    const holders = new Map<string, Map<string, string>>();
    const candidates = keyCandidates(outcomes);
    if (candidates.length === 0) return holders;
    const inChunk = new Map<string, string[]>();
    for (const o of outcomes) push(inChunk, o.table.name, o.id);
    const byTable = new Map<TableDef, RowOutcome[]>();
    for (const c of candidates) push(byTable, c.table, c);
    for (const [table, rows] of byTable) {
      const sql = this.tables.get(table.name) as TableSql;
      const res = await this.db.query(
        sql.keyHolders(
          rows.map((r) => (r.after as RowValues).values),
          inChunk.get(table.name) ?? [],
        ),
      );
      const map = new Map<string, string>();
      for (const r of res.rows as Record<string, unknown>[]) {
        const { id, values } = sql.keyRow(r);
        const key = businessKey(table, values);
        if (key !== null) map.set(key, id);
      }
      holders.set(table.name, map);
    }
    return holders;
  }

  /** Who last changed each conflicting row on the server (before this chunk's writes). */
  private async lastOrigins(conflicts: ConflictRecord[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    const rows = conflicts.filter((c) => c.kind !== 'duplicate-key');
    if (rows.length === 0) return out;
    const res = await this.db.query(
      `SELECT DISTINCT ON (table_name, row_id) table_name, row_id::text AS row_id, origin_client
         FROM sync_txn_log
        WHERE (row_id, table_name) IN (SELECT * FROM unnest($1::uuid[], $2::text[])) AND op <> 'confirm'
        ORDER BY table_name, row_id, seq DESC`,
      [rows.map((c) => c.rowId), rows.map((c) => c.table)],
    );
    for (const r of res.rows as Array<{ table_name: string; row_id: string; origin_client: string | null }>) {
      out.set(rowKey(r.table_name, r.row_id), r.origin_client);
    }
    return out;
  }

  /** Every write of a chunk, values already converted, in the order they must run. */
  private statements(outcomes: RowOutcome[]): Write[] {
    const out: Write[] = [];
    for (const table of this.schema.tables) {
      const mine = outcomes.filter((o) => o.table === table);
      if (mine.length === 0) continue;
      const sql = this.tables.get(table.name) as TableSql;
      const deletes = new Map<string, string[]>();
      const upserts = new Map<string, RowValues[]>();
      for (const o of mine) {
        if (o.before && !o.after) push(deletes, o.user, o.id);
        else if (o.after && (!o.before || changed(table, o.before, o.after))) push(upserts, o.user, o.after);
      }
      // Deletes first: a key freed by a deleted row may be taken by an upserted one.
      for (const [user, ids] of deletes) out.push({ user, query: sql.delete(ids) });
      for (const [user, rows] of upserts) out.push({ user, query: sql.upsert(rows) });
    }
    return out;
  }

  private async write(writes: Write[]): Promise<void> {
    for (const { user, query } of writes) {
      // The log's origin_user: one setting per run of writes by the same user, not one per statement.
      if (user !== this.originUser) {
        await this.db.query(`SELECT set_config($1, $2, true)`, [CAPTURE_SETTINGS.originUser, user]);
        this.originUser = user;
      }
      await this.db.query(query);
    }
  }

  private async recordConflicts(
    conflicts: ConflictRecord[],
    origins: Map<string, string | null>,
  ): Promise<void> {
    if (conflicts.length === 0) return;
    await this.db.query(
      `INSERT INTO sync_conflict (kind, table_name, row_id, column_name, server_value, client_value, server_origin,
                                  client_origin, server_at, client_at, policy, winner, client_file_seq)
       SELECT k, t, r, c, sv, cv, so, $8, sa, ca, p, w, $13
         FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[], $7::text[],
                     $9::timestamptz[], $10::timestamptz[], $11::text[], $12::text[])
           AS x(k, t, r, c, sv, cv, so, sa, ca, p, w)`,
      [
        conflicts.map((c) => c.kind),
        conflicts.map((c) => c.table),
        conflicts.map((c) => c.rowId),
        conflicts.map((c) => c.column),
        conflicts.map((c) => JSON.stringify(c.serverValue ?? null)),
        conflicts.map((c) => JSON.stringify(c.clientValue ?? null)),
        conflicts.map((c) => origins.get(rowKey(c.table, c.rowId)) ?? null),
        this.file.client,
        conflicts.map((c) => c.serverAt),
        conflicts.map((c) => c.clientAt),
        conflicts.map((c) => c.policy),
        conflicts.map((c) => c.winner),
        this.file.fileSeq,
      ],
    );
  }

  /**
   * The file's bookkeeping in one round trip, since it runs under the log lock: the confirm row
   * (`lastSeq` null for a file without transactions: nothing to confirm), the client's apply
   * position and the file's inbox status.
   */
  private async finish(position: ApplyPosition, lastSeq: number | null): Promise<void> {
    const params = [this.file.client, this.file.fileSeq, lastSeq ?? position.txnSeq];
    const bookkeeping = `
      UPDATE sync_apply_position SET file_seq = $2, txn_seq = $3, updated_at = now() WHERE client = $1`;
    const markApplied = `
      UPDATE sync_inbox_file SET status = 'applied', applied_at = now(), reason = NULL
       WHERE client = $1 AND file_seq = $2`;
    // The lock is taken in FROM, before the confirm row draws its seq (a file may write no rows).
    const confirm = `
      INSERT INTO sync_txn_log (op, origin_client, origin_txn_seq)
      SELECT 'confirm', $1, $3 FROM sync_log_lock()`;
    await this.db.query(
      lastSeq === null
        ? `WITH position AS (${bookkeeping}) ${markApplied}`
        : `WITH confirm AS (${confirm}), position AS (${bookkeeping}) ${markApplied}`,
      params,
    );
  }

  /**
   * The echo rows after the confirm row: the router sends the confirm before the echoes, so the
   * agent drops its confirmed log entries before it takes the server's resolution of them.
   */
  private async writeEchoes(lastSeq: number): Promise<void> {
    if (this.echoes.size === 0) return;
    const echoes = [...this.echoes.values()];
    const present = new Set<string>();
    for (const [name, sql] of this.tables) {
      const ids = echoes.filter((e) => e.table.name === name).map((e) => e.id);
      if (ids.length === 0) continue;
      const res = await this.db.query(
        `SELECT id::text AS id FROM ${sql.quotedName} WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      for (const r of res.rows as Array<{ id: string }>) present.add(rowKey(name, r.id));
    }
    await this.db.query(
      `INSERT INTO sync_txn_log (table_name, row_id, op, origin_client, origin_user, origin_txn_seq, echo)
       SELECT t, r, o, $4, u, $6, true FROM unnest($1::text[], $2::uuid[], $3::text[], $5::text[]) AS x(t, r, o, u)`,
      [
        echoes.map((e) => e.table.name),
        echoes.map((e) => e.id),
        echoes.map((e) => (present.has(rowKey(e.table.name, e.id)) ? 'update' : 'delete')),
        this.file.client,
        echoes.map((e) => e.user),
        lastSeq,
      ],
    );
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function changed(table: TableDef, before: ServerRow, after: RowValues): boolean {
  if (before.conflictOf !== after.conflictOf) return true;
  return table.columns.some((c) => dxKey(c, before.values[c.name]) !== dxKey(c, after.values[c.name]));
}
