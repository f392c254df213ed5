import type Database from 'better-sqlite3';
import type { DxHeader, DxRow, DxTransaction } from '@outpost/dx-format';
import { SqliteTableCodec, SqliteValueError, TableDef } from '@outpost/schema';
import { AgentError, AgentErrorCode } from '../errors';
import { LocalStore, StateKey } from './local-store';
import { LogEntry, LogRepository, rowKey } from './log.repository';

export interface DownloadPosition {
  epoch: number;
  fileSeq: number;
}

export interface ApplyResult {
  /** False when the file was applied before (same epoch, seq not above the applied position). */
  applied: boolean;
  txns: number;
}

/** Page cache while an extract loads (negative: KiB), 64 MiB; the connection's own size comes back after. */
const EXTRACT_CACHE_SIZE = -65_536;

interface TableStatements {
  table: TableDef;
  codec: SqliteTableCodec;
  rowVersionIndex: number;
  upsert: Database.Statement;
  insertIfMissing: Database.Statement;
  remove: Database.Statement;
  updates: Map<string, Database.Statement>;
}

/**
 * Applies downloaded DX files to the local store, one SQLite transaction per file, with capture off.
 * A server row lands on top of the local one, then the row's unconfirmed local changes are replayed on
 * top of it (rebase), so a pending offline edit survives until the server's resolution comes back.
 */
export class DownloadApplier {
  private readonly tables = new Map<string, TableStatements>();
  private readonly log: LogRepository;

  constructor(private readonly store: LocalStore) {
    this.log = new LogRepository(store);
    for (const table of store.schema.tables) this.tables.set(table.name, this.prepare(table));
  }

  position(): DownloadPosition {
    return {
      epoch: Number(this.store.getState(StateKey.downloadEpoch) ?? 0),
      fileSeq: Number(this.store.getState(StateKey.downloadFileSeq) ?? 0),
    };
  }

  /** Whether a file of `epoch` with `fileSeq` was applied already (a new epoch resets the position). */
  isApplied(epoch: number, fileSeq: number): boolean {
    const pos = this.position();
    return epoch < pos.epoch || (epoch === pos.epoch && fileSeq <= pos.fileSeq);
  }

  /**
   * `batches` are the file's transactions in order, as `DxReader.batches()` yields them: one await per
   * batch, not per transaction. `listEpoch` is the epoch the server listed the file under, for headers
   * that do not carry one.
   */
  async apply(
    header: DxHeader,
    batches: AsyncIterable<readonly DxTransaction[]> | Iterable<readonly DxTransaction[]>,
    listEpoch: number,
  ): Promise<ApplyResult> {
    const epoch = header.epoch ?? listEpoch;
    if (header.direction !== 'download') {
      throw new AgentError(
        AgentErrorCode.DownloadInvalid,
        `download file ${header.fileSeq} is marked direction "${header.direction}"`,
      );
    }
    if (this.isApplied(epoch, header.fileSeq)) return { applied: false, txns: 0 };
    const schema = this.store.schema;
    if (header.schemaVersion !== undefined && header.schemaVersion > schema.version) {
      throw new AgentError(
        AgentErrorCode.DownloadInvalid,
        `download file ${header.fileSeq} was written under schema ${schema.name} v${header.schemaVersion}, but this laptop holds v${schema.version}; sync again to upgrade first`,
      );
    }
    const extract = header.kind === 'extract';
    // An extract rewrites every table in one transaction: with SQLite's default 2 MB page cache the
    // foreign-key indexes, filled in random order, would spill to the WAL and be read back page by page.
    const cacheSize = extract ? this.store.db.pragma('cache_size', { simple: true }) : undefined;
    if (extract) this.store.db.pragma(`cache_size = ${EXTRACT_CACHE_SIZE}`);
    try {
      return await this.applyInTransaction(header, batches, epoch, extract);
    } finally {
      if (cacheSize !== undefined) this.store.db.pragma(`cache_size = ${Number(cacheSize)}`);
    }
  }

  private applyInTransaction(
    header: DxHeader,
    batches: AsyncIterable<readonly DxTransaction[]> | Iterable<readonly DxTransaction[]>,
    epoch: number,
    extract: boolean,
  ): Promise<ApplyResult> {
    return this.store.withCaptureOff(async () => {
      if (extract)
        for (const t of [...this.tables.values()].reverse())
          this.store.db.prepare(`DELETE FROM ${t.table.name}`).run();
      // Secondary indexes are built once over the loaded rows rather than entry by entry in random
      // order; inside the transaction, so a failed load leaves them as they were.
      const indexes = extract ? this.dropSecondaryIndexes() : [];
      let pending = this.log.rowsWithUnconfirmedChanges();
      let txns = 0;
      for await (const batch of batches) {
        for (const tx of batch) {
          txns++;
          try {
            if (tx.op === 'confirm') {
              this.log.confirmUpTo(tx.upTo);
              pending = this.log.rowsWithUnconfirmedChanges();
              continue;
            }
            this.applyRowTx(tx);
            // An extract replays every pending change once at the end instead.
            if (!extract && pending.size > 0 && pending.has(rowKey(tx.table, tx.id))) {
              for (const entry of this.log.unconfirmedEntriesOfRow(tx.table, tx.id)) this.replay(entry);
            }
          } catch (err) {
            throw this.describe(err, header, txns - 1, tx);
          }
        }
      }
      for (const sql of indexes) this.store.db.exec(sql);
      if (extract) for (const entry of this.log.unconfirmedEntries()) this.replay(entry);
      this.store.setState(StateKey.downloadEpoch, String(epoch));
      this.store.setState(StateKey.downloadFileSeq, String(header.fileSeq));
      return { applied: true, txns };
    });
  }

  /** Drops the synced tables' own indexes (not those of primary keys or unique constraints); returns their DDL. */
  private dropSecondaryIndexes(): string[] {
    const names = [...this.tables.keys()];
    const indexes = this.store.db
      .prepare(
        `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL
            AND tbl_name IN (${names.map(() => '?').join(', ')}) ORDER BY name`,
      )
      .all(...names) as Array<{ name: string; sql: string }>;
    for (const index of indexes) this.store.db.exec(`DROP INDEX "${index.name}"`);
    return indexes.map((index) => index.sql);
  }

  private applyRowTx(tx: Exclude<DxTransaction, { op: 'confirm' }>): void {
    const t = this.statements(tx.table);
    switch (tx.op) {
      case 'upsert': {
        if (t.table.columns.some((c) => !(c.name in tx.row)))
          return this.upsertPartial(t, tx.row, tx.version);
        const values = t.codec.rowFromDx(tx.row);
        values[t.rowVersionIndex] = tx.version;
        t.upsert.run(values);
        return;
      }
      case 'delete':
      case 'evict':
        t.remove.run(tx.id);
        return;
      case 'insert':
      case 'update':
        throw new AgentError(
          AgentErrorCode.DownloadInvalid,
          `operation "${tx.op}" does not belong in a download file`,
        );
    }
  }

  /**
   * A row routed before the server's last schema upgrade lacks the newer columns: it sets the
   * columns it has, and a new row takes the defaults of the others (the partial re-extract that
   * follows the upgrade brings their server values).
   */
  private upsertPartial(t: TableStatements, row: DxRow, version: number): void {
    const present = t.table.allColumns.filter((c) => c.name in row || c.name === 'row_version');
    const names = present.map((c) => c.name);
    const values = present.map((c) =>
      c.name === 'row_version' ? version : t.codec.column(c.name).fromDx(row[c.name]),
    );
    const set = names.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`);
    this.store.db
      .prepare(
        `INSERT INTO ${t.table.name} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')}) ON CONFLICT(id) DO UPDATE SET ${set.join(', ')}`,
      )
      .run(values);
  }

  /** Re-applies one local change on top of the server's row; the change stays in the log, unconfirmed. */
  private replay(entry: LogEntry): void {
    const t = this.tables.get(entry.table_name);
    if (!t) return;
    switch (entry.op) {
      case 'insert': {
        const row = JSON.parse(entry.row_json ?? '{}') as Record<string, unknown>;
        t.insertIfMissing.run(t.table.columns.map((c) => bindable(row[c.name])));
        return;
      }
      case 'update': {
        const changes = JSON.parse(entry.changes_json ?? '{}') as Record<string, { new: unknown }>;
        const columns = Object.keys(changes).filter((c) => t.table.columns.some((col) => col.name === c));
        if (columns.length === 0) return;
        this.updateStatement(t, columns).run(...columns.map((c) => bindable(changes[c].new)), entry.row_id);
        return;
      }
      case 'delete':
        t.remove.run(entry.row_id);
        return;
    }
  }

  private statements(table: string): TableStatements {
    const t = this.tables.get(table);
    if (!t)
      throw new AgentError(
        AgentErrorCode.DownloadInvalid,
        `table "${table}" is not in the local schema "${this.store.schema.name}"`,
      );
    return t;
  }

  private prepare(table: TableDef): TableStatements {
    const db = this.store.db;
    const all = table.allColumns.map((c) => c.name);
    const business = table.columns.map((c) => c.name);
    const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');
    const set = all.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`);
    return {
      table,
      codec: new SqliteTableCodec(table),
      rowVersionIndex: all.indexOf('row_version'),
      upsert: db.prepare(
        `INSERT INTO ${table.name} (${all.join(', ')}) VALUES (${marks(all.length)}) ON CONFLICT(id) DO UPDATE SET ${set.join(', ')}`,
      ),
      insertIfMissing: db.prepare(
        `INSERT OR IGNORE INTO ${table.name} (${business.join(', ')}) VALUES (${marks(business.length)})`,
      ),
      remove: db.prepare(`DELETE FROM ${table.name} WHERE id = ?`),
      updates: new Map(),
    };
  }

  private updateStatement(t: TableStatements, columns: string[]): Database.Statement {
    const key = columns.join(',');
    let stmt = t.updates.get(key);
    if (!stmt) {
      stmt = this.store.db.prepare(
        `UPDATE ${t.table.name} SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`,
      );
      t.updates.set(key, stmt);
    }
    return stmt;
  }

  private describe(err: unknown, header: DxHeader, index: number, tx: DxTransaction): Error {
    if (err instanceof AgentError && err.code !== AgentErrorCode.DownloadInvalid) return err;
    const where = `download file ${header.fileSeq} (epoch ${header.epoch ?? '?'}), transaction #${index} (${tx.op} ${tx.table} ${tx.id})`;
    const problem =
      err instanceof SqliteValueError || err instanceof AgentError
        ? err.message
        : `SQLite refused it: ${(err as Error).message}`;
    return new AgentError(
      AgentErrorCode.DownloadInvalid,
      `cannot apply ${where}: ${problem}; nothing of this file was applied`,
      {
        fileSeq: header.fileSeq,
        txIndex: index,
      },
    );
  }
}

/** Captured JSON holds SQLite values already (numbers, text, null); nested JSON never occurs in it. */
function bindable(v: unknown): string | number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  return JSON.stringify(v);
}
