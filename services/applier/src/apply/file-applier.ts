import type { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import {
  DxFormatError,
  DxReader,
  type DxHeader,
  type DxRow,
  type DxUploadTransaction,
} from '@outpost/dx-format';
import {
  CAPTURE_MESSAGE_PREFIX,
  droppedColumns,
  dxKey,
  type CaptureMessage,
  type Schema,
  type SchemaHistory,
  type TableDef,
} from '@outpost/schema';
import { captureBarrier } from '@outpost/server-db';
import { RefusalCode } from '@outpost/contracts';
import { ApplyRejection, ApplyRejectionCode, FileRefusal } from './apply-rejection';
import { emitCaptureMessage } from './capture-message';
import {
  businessKey,
  indexTxn,
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
import { WriteGuard, type Refusal } from './write-guard';

export interface InboxFile {
  client: string;
  fileSeq: number;
  objectKey: string;
  /** The registered user of the client: every change is authorized for this user. */
  user: string;
  /** When the server received the file: the latest change time it trusts. */
  receivedAt: Date;
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
  refused: number;
}

export interface FileApplierOptions {
  /** Transactions resolved and written together. */
  chunkTxns: number;
  /** The schema's versions: columns older versions had and a later one dropped are ignored in older files. */
  history?: SchemaHistory;
  /**
   * Uncompressed bytes of transactions resolved and written together: a chunk ends at `chunkTxns`
   * or at this many bytes, whichever comes first, so a file of large rows is held a few megabytes
   * at a time and not `chunkTxns` rows of up to `maxLineBytes` each.
   */
  chunkBytes: number;
  /** Longest transaction line accepted; a longer one quarantines the file (DX_INVALID, LINE_TOO_LONG). */
  maxLineBytes: number;
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
 * upsert statement. The transaction tells the change capture where its rows came from with
 * transactional messages (`pg_logical_emit_message`), which the replication stream delivers in
 * place: the origin (client, user) before the rows, then the confirm, then the echoes. The client's
 * apply position and the file's inbox status move in the confirm's statement. No lock is shared
 * with other files: files of different clients apply side by side.
 * Throws ApplyRejection for a file that can never apply; anything else is transient.
 */
export class FileApplier {
  private readonly tables: Map<string, TableSql>;
  private readonly dropped: Map<string, Set<string>>;

  constructor(
    private readonly schema: Schema,
    private readonly guard: WriteGuard,
    private readonly options: FileApplierOptions,
  ) {
    this.tables = new Map(schema.tables.map((t) => [t.name, new TableSql(t)]));
    const versions = options.history?.stepsBetween(0, schema.version) ?? [];
    this.dropped = new Map(schema.tables.map((t) => [t.name, droppedColumns(versions, t.name)]));
  }

  /** Throws FileRefusal when the whole file must be refused, ApplyRejection when it can never apply. */
  async apply(
    db: PoolClient,
    file: InboxFile,
    position: ApplyPosition,
    input: Readable,
  ): Promise<FileApplyResult> {
    const run = new FileRun(this.schema, this.tables, this.guard, this.dropped, this.options, db, file);
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
  /** The user of the last origin message, once one was written. */
  private originUser: string | null | undefined;
  /** Writes of this run per row (the log holds only committed changes): each bumped the version once. */
  private readonly ownWrites = new Map<string, number>();
  /** Rows this run deleted, with their last values (for a resurrect in a later chunk). */
  private readonly ownDeletes = new Map<string, DxRow>();
  private conflictCount = 0;
  private refusedCount = 0;
  private chunksWritten = 0;
  /** Rows whose insert was refused earlier in the file: their later changes cannot apply either. */
  private readonly followed = new Set<string>();

  constructor(
    private readonly schema: Schema,
    private readonly tables: Map<string, TableSql>,
    private readonly guard: WriteGuard,
    private readonly dropped: ReadonlyMap<string, ReadonlySet<string>>,
    private readonly options: FileApplierOptions,
    private readonly db: PoolClient,
    private readonly file: InboxFile,
  ) {}

  async apply(input: Readable, position: ApplyPosition): Promise<FileApplyResult> {
    const reader = DxReader.open(input, { maxLineBytes: this.options.maxLineBytes });
    const header = await reader.header();
    this.checkHeader(header, position);
    await this.origin(null);
    let chunk: IndexedTxn[] = [];
    let chunkStart = 0;
    let index = 0;
    let expected = position.txnSeq + 1;
    for await (const batch of reader.batches()) {
      for (const tx of batch) {
        if (tx.seq !== expected) {
          throw new ApplyRejection(
            ApplyRejectionCode.SeqNotContiguous,
            `file ${describe(this.file)} transaction #${index} has seq ${tx.seq}, expected ${expected}; the client's transaction log skipped or repeated a seq — re-extract the client`,
          );
        }
        expected += 1;
        const upload = tx as DxUploadTransaction;
        // A laptop that made changes before its first session did not know its user yet: an empty
        // user claims nothing and is the client's own.
        if (upload.user === '') upload.user = this.file.user;
        if (upload.user !== this.file.user) {
          throw new FileRefusal(
            RefusalCode.ForgedUser,
            `file ${describe(this.file)} transaction #${index} (seq ${tx.seq}) names user "${String(upload.user)}", but client "${this.file.client}" is registered for user "${this.file.user}"; no change of the file was applied`,
          );
        }
        chunk.push(indexTxn(index, upload, this.file.receivedAt));
        index += 1;
        if (chunk.length >= this.options.chunkTxns) {
          await this.applyChunk(chunk);
          chunk = [];
          chunkStart = reader.decodedBytes;
        }
      }
      if (chunk.length > 0 && reader.decodedBytes - chunkStart >= this.options.chunkBytes) {
        await this.applyChunk(chunk);
        chunk = [];
        chunkStart = reader.decodedBytes;
      }
    }
    if (chunk.length > 0) await this.applyChunk(chunk);
    // Iteration completed: the trailer's checksum and counts held, the data above can be committed.
    await this.finish(position, index > 0 ? header.lastSeq : null);
    if (index > 0) await this.writeEchoes(header.lastSeq);
    return {
      header,
      txnCount: index,
      conflicts: this.conflictCount,
      echoes: this.echoes.size,
      refused: this.refusedCount,
    };
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
    // A file of an older version applies as it is: its inserts lack the newer columns, which take
    // their defaults, and columns dropped since are ignored. A newer one needs the server upgraded first.
    if (header.schemaVersion !== undefined && header.schemaVersion > this.schema.version) {
      throw new ApplyRejection(
        ApplyRejectionCode.SchemaTooNew,
        `file ${describe(this.file)} was written under schema ${this.schema.name} v${header.schemaVersion}, but the server runs v${this.schema.version}; upgrade the server, then retry the file`,
      );
    }
    if (header.count > 0 && header.firstSeq !== position.txnSeq + 1) {
      throw new ApplyRejection(
        ApplyRejectionCode.SeqNotContiguous,
        `file ${describe(this.file)} starts at transaction seq ${header.firstSeq} but the server applied up to ${position.txnSeq} (file ${position.fileSeq}); transactions ${position.txnSeq + 1}..${header.firstSeq - 1} are missing — re-extract the client`,
      );
    }
  }

  /**
   * One chunk: authorize, resolve and write, inside a savepoint. A change refused on the written
   * state rolls the savepoint back and the chunk is resolved again without it, so the rows a
   * refused change touched are never written (the loaded rows stay locked across the retry).
   */
  private async applyChunk(all: IndexedTxn[]): Promise<void> {
    const loaded = await this.loadRows(all);
    const refused = new Map<number, Refusal>();
    const seenBefore = await this.guard.seen(this.db, this.file.user, this.loadedIds(all, loaded));
    for (const r of this.guard.before(all, loaded, seenBefore, this.followed)) refused.set(r.txn.index, r);
    let resolved: Resolved;
    let origins = new Map<string, string | null>();
    for (;;) {
      const txns = all.filter((t) => !refused.has(t.index));
      resolved = await this.resolve(txns, loaded);
      if (txns.length === 0) break;
      // Who last changed each conflicting row, read before this chunk writes over it.
      origins = await this.lastOrigins(resolved.conflicts);
      const targets = this.guard.targets(resolved.outcomes);
      const targetsBefore = await this.guard.seen(this.db, this.file.user, targets);
      await this.db.query('SAVEPOINT outpost_chunk');
      await this.write(this.statements(resolved.outcomes));
      const seenAfter = await this.guard.seen(
        this.db,
        this.file.user,
        merge(targets, this.survivingIds(resolved.outcomes)),
      );
      const late = this.guard.after(txns, resolved.outcomes, union(seenBefore, targetsBefore), seenAfter);
      if (late.length === 0) {
        await this.db.query('RELEASE SAVEPOINT outpost_chunk');
        break;
      }
      await this.db.query('ROLLBACK TO SAVEPOINT outpost_chunk');
      // The origin message of the rolled-back writes went with them.
      this.originUser = undefined;
      for (const r of late) refused.set(r.txn.index, r);
    }
    const { outcomes, conflicts } = resolved;
    await this.recordConflicts(conflicts, origins);
    await this.recordRefusals([...refused.values()], loaded);
    for (const o of outcomes) {
      const key = rowKey(o.table.name, o.id);
      if (o.echo) this.echoes.set(key, { table: o.table, id: o.id, user: o.user });
      if (o.before && !o.after) this.ownDeletes.set(key, o.before.values);
      else if (o.after && (!o.before || changed(o.table, o.before, o.after)))
        this.ownWrites.set(key, (this.ownWrites.get(key) ?? 0) + 1);
    }
    this.conflictCount += conflicts.length;
    this.chunksWritten += 1;
    await this.options.afterChunk?.(this.chunksWritten);
  }

  /** Conflict resolution of the allowed transactions against the loaded rows, duplicate keys marked. */
  private async resolve(txns: IndexedTxn[], loaded: Map<string, ServerRow>): Promise<Resolved> {
    const recentOrigins = await this.loadRecentOrigins(txns, loaded);
    const deleted = await this.loadDeletedRows(txns, loaded);
    const { outcomes, conflicts } = resolveChunk(
      {
        schema: this.schema,
        client: this.file.client,
        loaded,
        recentOrigins,
        deleted,
        dropped: this.dropped,
      },
      txns,
    );
    const atOf = new Map(txns.map((t) => [t.index, t.tx.at]));
    const holders = await this.loadKeyHolders(outcomes);
    conflicts.push(...markDuplicateKeys(outcomes, holders, (i) => atOf.get(i) ?? new Date().toISOString()));
    return { outcomes, conflicts };
  }

  /** The rows of the chunk the server holds, by table: whether the user sees them decides who may touch them. */
  private loadedIds(txns: IndexedTxn[], loaded: Map<string, ServerRow>): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const { tx } of txns) {
      if (!loaded.has(rowKey(tx.table, tx.id))) continue;
      let ids = out.get(tx.table);
      if (!ids) out.set(tx.table, (ids = new Set()));
      ids.add(tx.id);
    }
    return out;
  }

  private survivingIds(outcomes: RowOutcome[]): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const o of outcomes) {
      if (!o.after) continue;
      let ids = out.get(o.table.name);
      if (!ids) out.set(o.table.name, (ids = new Set()));
      ids.add(o.id);
    }
    return out;
  }

  /**
   * Refused changes are recorded in the file's transaction, and the rows they touched go back to
   * the laptop as the server holds them (or are taken from it), so its copy converges.
   */
  private async recordRefusals(refusals: Refusal[], loaded: Map<string, ServerRow>): Promise<void> {
    if (refusals.length === 0) return;
    refusals.sort((a, b) => a.txn.index - b.txn.index);
    for (const { txn } of refusals) {
      const key = rowKey(txn.tx.table, txn.tx.id);
      if (txn.tx.op === 'insert' && !loaded.has(key)) this.followed.add(key);
      const table = this.schema.table(txn.tx.table);
      if (table && UUID.test(txn.tx.id)) this.echoes.set(key, { table, id: txn.tx.id, user: this.file.user });
    }
    await this.db.query(
      `INSERT INTO sync_refusal (client, user_login, file_seq, txn_seq, table_name, row_id, op, code, reason)
       SELECT $1, $2, $3, s, t, r, o, c, m
         FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS x(s, t, r, o, c, m)`,
      [
        this.file.client,
        this.file.user,
        this.file.fileSeq,
        refusals.map((r) => r.txn.tx.seq),
        refusals.map((r) => String(r.txn.tx.table)),
        refusals.map((r) => String(r.txn.tx.id)),
        refusals.map((r) => String(r.txn.tx.op)),
        refusals.map((r) => r.code),
        refusals.map((r) => r.reason),
      ],
    );
    this.refusedCount += refusals.length;
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
      for (const id of ids) {
        const mine = this.ownDeletes.get(rowKey(sql.table.name, id));
        if (mine) out.set(rowKey(sql.table.name, id), mine);
      }
    }
    if (byTable.size > 0) await this.captured();
    for (const [sql, ids] of byTable) {
      const res = await this.db.query(sql.lastDeleted([...ids]));
      for (const r of res.rows as Record<string, unknown>[]) {
        const { id, row } = sql.decode(r);
        if (!out.has(rowKey(sql.table.name, id))) out.set(rowKey(sql.table.name, id), row.values);
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
    // This run's own writes are newest and not in the log yet (it holds committed changes only).
    for (const key of need.keys()) {
      const mine = this.ownWrites.get(key) ?? 0;
      if (mine > 0) out.set(key, Array<string | null>(mine).fill(this.file.client));
    }
    await this.captured();
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
    await this.captured();
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
    for (const c of rows)
      if (this.ownWrites.has(rowKey(c.table, c.rowId))) out.set(rowKey(c.table, c.rowId), this.file.client);
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
      // The log's origin_user: one message per run of writes by the same user, not one per statement.
      if (user !== this.originUser) await this.origin(user);
      await this.db.query(query);
    }
  }

  /** Tells the capture that the rows written next come from this client (and user). */
  private async origin(user: string | null): Promise<void> {
    await this.emit({ kind: 'origin', client: this.file.client, user });
    this.originUser = user;
  }

  private async emit(message: CaptureMessage): Promise<void> {
    await emitCaptureMessage(this.db, message);
  }

  /**
   * Makes the log complete up to now before it is read for conflict details: the rows in question
   * are locked, so every change to them is committed and only needs to reach the log. When the
   * capture does not answer in time the details are read as they are (a delete then counts as
   * conflicting, a server origin stays unknown): never wrong data, at worst a conservative record.
   */
  private async captured(): Promise<void> {
    await captureBarrier(this.db, { timeoutMs: CAPTURE_WAIT_MS });
  }

  private async recordConflicts(
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
        this.file.client,
        conflicts.map((c) => c.serverAt),
        conflicts.map((c) => c.clientAt),
        conflicts.map((c) => c.policy),
        conflicts.map((c) => c.winner),
        this.file.fileSeq,
        conflicts.map((c) => c.clientAtClamped),
      ],
    );
  }

  /**
   * The file's bookkeeping in one round trip: the confirm message (`lastSeq` null for a file
   * without transactions: nothing to confirm), the client's apply position and the file's status.
   */
  private async finish(position: ApplyPosition, lastSeq: number | null): Promise<void> {
    const params: unknown[] = [this.file.client, this.file.fileSeq, lastSeq ?? position.txnSeq];
    const bookkeeping = `
      UPDATE sync_apply_position SET file_seq = $2, txn_seq = $3, updated_at = now() WHERE client = $1`;
    let from = '';
    if (lastSeq !== null) {
      const confirm: CaptureMessage = { kind: 'confirm', client: this.file.client, upTo: lastSeq };
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

  /**
   * The echo rows after the confirm: the router sends the confirm before the echoes, so the
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
    await this.emit({
      kind: 'echo',
      client: this.file.client,
      upTo: lastSeq,
      rows: echoes.map((e) => ({
        table: e.table.name,
        id: e.id,
        op: present.has(rowKey(e.table.name, e.id)) ? 'update' : 'delete',
        user: e.user,
      })),
    });
  }
}

/** How long a conflict lookup waits for the capture to log what committed before it. */
const CAPTURE_WAIT_MS = 5_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Resolved {
  outcomes: RowOutcome[];
  conflicts: ConflictRecord[];
}

function union(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  return new Set([...a, ...b]);
}

function merge(a: Map<string, Set<string>>, b: Map<string, Set<string>>): Map<string, Set<string>> {
  const out = new Map([...a].map(([k, v]) => [k, new Set(v)]));
  for (const [k, v] of b) {
    const ids = out.get(k);
    if (ids) for (const id of v) ids.add(id);
    else out.set(k, new Set(v));
  }
  return out;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function changed(table: TableDef, before: ServerRow, after: RowValues): boolean {
  if (before.conflictOf !== after.conflictOf) return true;
  return table.columns.some((c) => dxKey(c, before.values[c.name]) !== dxKey(c, after.values[c.name]));
}
