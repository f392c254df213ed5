import type { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import { DxReader, type DxUploadTransaction } from '@outpost/dx-format';
import type { Schema, TableDef } from '@outpost/schema';
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
import {
  changed,
  knownRows,
  loadedIds,
  merge,
  statements,
  survivingIds,
  union,
  type Write,
} from './chunk-rows';
import { markDuplicateKeys } from './duplicate-keys';
import { checkHeader, describe } from './file-header';
import { TableSql } from './table-sql';
import { WriteGuard, type Refusal } from './write-guard';

import type { ApplyPosition, FileApplierOptions, FileApplyResult, InboxFile } from './file-applier';

interface Echo {
  table: TableDef;
  id: string;
  user: string;
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
    checkHeader(this.schema, this.file, header, position);
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
      loadedIds(all, loaded),
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
      await this.write(statements(this.schema, this.tables, resolved.outcomes));
      const seenAfter = await this.guard.seen(
        this.repo.connection,
        this.file.user,
        merge(targets, survivingIds(resolved.outcomes)),
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
