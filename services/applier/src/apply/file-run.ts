import type { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import { DxReader, type DxHeader, type DxRow, type DxUploadTransaction } from '@outpost/dx-format';
import { dxKey, type Schema, type TableDef } from '@outpost/schema';
import { RefusalCode } from '@outpost/contracts';
import { ApplyRepository } from './apply.repository';
import { ApplyRejection, ApplyRejectionCode, FileRefusal } from './apply-rejection';
import { ChunkLookups, UUID } from './chunk-lookups';
import { resolveChunk } from './chunk-resolver';
import {
  indexTxn,
  rowKey,
  type ConflictRecord,
  type IndexedTxn,
  type RowOutcome,
  type RowValues,
  type ServerRow,
} from './chunk-types';
import { markDuplicateKeys } from './duplicate-keys';
import { TableSql } from './table-sql';
import { WriteGuard, type KnownRows, type Refusal } from './write-guard';

import type { ApplyPosition, FileApplierOptions, FileApplyResult, InboxFile } from './file-applier';

interface Echo {
  table: TableDef;
  id: string;
  user: string;
}

export function describe(file: InboxFile): string {
  return `${file.client}/${file.fileSeq}`;
}

interface Write {
  user: string;
  query: { text: string; values: unknown[] };
}

/** One file's apply: its chunks, refusals, echoes and origin, inside the caller's transaction. */
export class FileRun {
  private readonly echoes = new Map<string, Echo>();
  /** The user of the last origin message, once one was written. */
  private originUser: string | null | undefined;
  private readonly repo: ApplyRepository;
  private readonly lookups: ChunkLookups;
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
    db: PoolClient,
    private readonly file: InboxFile,
  ) {
    this.repo = new ApplyRepository(db, tables);
    this.lookups = new ChunkLookups(this.repo, tables, file.client);
  }

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
    await this.repo.finish(this.file, position.txnSeq, index > 0 ? header.lastSeq : null);
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
    // The rows as the server holds them before this chunk writes: loaded, or absent.
    const before = knownRows(
      all.map((t) => [t.tx.table, t.tx.id, loaded.get(rowKey(t.tx.table, t.tx.id))?.values ?? null]),
    );
    const seenBefore = await this.guard.seen(
      this.repo.connection,
      this.file.user,
      this.loadedIds(all, loaded),
      before,
    );
    for (const r of this.guard.before(all, loaded, seenBefore, this.followed)) refused.set(r.txn.index, r);
    let resolved: Resolved;
    let origins = new Map<string, string | null>();
    for (;;) {
      const txns = all.filter((t) => !refused.has(t.index));
      resolved = await this.resolve(txns, loaded);
      if (txns.length === 0) break;
      // Who last changed each conflicting row, read before this chunk writes over it.
      origins = await this.lookups.lastOrigins(resolved.conflicts);
      const targets = this.guard.targets(resolved.outcomes);
      const targetsBefore = await this.guard.seen(this.repo.connection, this.file.user, targets, before);
      await this.repo.savepoint();
      await this.write(this.statements(resolved.outcomes));
      const seenAfter = await this.guard.seen(
        this.repo.connection,
        this.file.user,
        merge(targets, this.survivingIds(resolved.outcomes)),
        knownRows(resolved.outcomes.map((o) => [o.table.name, o.id, o.after?.values ?? null])),
      );
      const late = this.guard.after(txns, resolved.outcomes, union(seenBefore, targetsBefore), seenAfter);
      if (late.length === 0) {
        await this.repo.releaseSavepoint();
        break;
      }
      await this.repo.rollbackToSavepoint();
      // The origin message of the rolled-back writes went with them.
      this.originUser = undefined;
      for (const r of late) refused.set(r.txn.index, r);
    }
    const { outcomes, conflicts } = resolved;
    await this.repo.insertConflicts(this.file, conflicts, origins);
    await this.recordRefusals([...refused.values()], loaded);
    for (const o of outcomes) {
      if (o.echo) this.echoes.set(rowKey(o.table.name, o.id), { table: o.table, id: o.id, user: o.user });
    }
    this.lookups.remember(outcomes, (o) => !o.before || changed(o.table, o.before, o.after as RowValues));
    this.conflictCount += conflicts.length;
    this.chunksWritten += 1;
    await this.options.afterChunk?.(this.chunksWritten);
  }

  /** Conflict resolution of the allowed transactions against the loaded rows, duplicate keys marked. */
  private async resolve(txns: IndexedTxn[], loaded: Map<string, ServerRow>): Promise<Resolved> {
    const recentOrigins = await this.lookups.recentOrigins(txns, loaded);
    const deleted = await this.lookups.deletedRows(txns, loaded);
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
    const holders = await this.lookups.keyHolders(outcomes);
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
    await this.repo.insertRefusals(this.file, refusals);
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
    const ids = new Map<TableSql, string[]>();
    for (const [sql, list] of this.idsByTable(txns))
      ids.set(
        sql,
        list.filter((id) => UUID.test(id)),
      );
    return this.repo.lockRows(ids);
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
      await this.repo.write(query);
    }
  }

  /** Tells the capture that the rows written next come from this client (and user). */
  private async origin(user: string | null): Promise<void> {
    await this.repo.emit({ kind: 'origin', client: this.file.client, user });
    this.originUser = user;
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
      for (const id of await this.repo.existing(sql, ids)) present.add(rowKey(name, id));
    }
    await this.repo.emit({
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

/** Known rows by table and id, for the write guard (see KnownRows). */
function knownRows(rows: Array<[string, string, DxRow | null]>): KnownRows {
  const out = new Map<string, Map<string, DxRow | null>>();
  for (const [table, id, values] of rows) {
    let ofTable = out.get(table);
    if (!ofTable) out.set(table, (ofTable = new Map()));
    ofTable.set(id, values);
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
