import type { DxRow } from '@outpost/dx-format';
import type { TableDef } from '@outpost/schema';
import type { ApplyRepository } from './apply.repository';
import {
  rowKey,
  type ConflictRecord,
  type IndexedTxn,
  type RowOutcome,
  type RowValues,
  type ServerRow,
} from './chunk-types';
import { keyCandidates } from './duplicate-keys';
import type { TableSql } from './table-sql';

/**
 * What conflict resolution needs to know beyond the locked rows, for one file: who changed a row
 * since a version, who changed it last, a deleted row's last values, who holds a business key.
 * The log holds committed changes only, so the file's own earlier chunks are remembered here.
 */
export class ChunkLookups {
  /** Writes of this file per row: each bumped the row's version once. */
  private readonly ownWrites = new Map<string, number>();
  /** Rows this file deleted, with their last values (for a resurrect in a later chunk). */
  private readonly ownDeletes = new Map<string, DxRow>();

  constructor(
    private readonly repo: ApplyRepository,
    private readonly tables: Map<string, TableSql>,
    private readonly client: string,
  ) {}

  /** Records what a chunk wrote, once it is written for good. */
  remember(outcomes: RowOutcome[], changed: (o: RowOutcome) => boolean): void {
    for (const o of outcomes) {
      const key = rowKey(o.table.name, o.id);
      if (o.before && !o.after) this.ownDeletes.set(key, o.before.values);
      else if (o.after && changed(o)) this.ownWrites.set(key, (this.ownWrites.get(key) ?? 0) + 1);
    }
  }

  /** For updates of rows the server deleted, in tables that resurrect: the rows' last values. */
  async deletedRows(txns: IndexedTxn[], loaded: Map<string, ServerRow>): Promise<Map<string, DxRow>> {
    const byTable = new Map<TableSql, Set<string>>();
    for (const { tx } of txns) {
      const sql = this.tables.get(tx.table);
      if (tx.op !== 'update' || !sql || sql.table.conflict.delete !== 'resurrect' || !UUID.test(tx.id))
        continue;
      if (loaded.has(rowKey(tx.table, tx.id))) continue;
      byTable.set(sql, (byTable.get(sql) ?? new Set<string>()).add(tx.id));
    }
    const out = new Map<string, DxRow>();
    if (byTable.size === 0) return out;
    await this.repo.awaitCapture();
    for (const [sql, ids] of byTable) {
      for (const [key, row] of await this.repo.lastDeleted(sql, [...ids])) out.set(key, row);
      for (const id of ids) {
        const mine = this.ownDeletes.get(rowKey(sql.table.name, id));
        if (mine) out.set(rowKey(sql.table.name, id), mine);
      }
    }
    return out;
  }

  /** For deletes based on an older version than the server's: who made the changes since, newest first. */
  async recentOrigins(
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
    await this.repo.awaitCapture();
    const logged = await this.repo.recentOrigins([...need.values()]);
    for (const key of need.keys()) {
      // This file's own writes are the newest and not in the log yet.
      const mine = Array<string | null>(this.ownWrites.get(key) ?? 0).fill(this.client);
      out.set(key, [...mine, ...(logged.get(key) ?? [])]);
    }
    return out;
  }

  /** Who last changed each conflicting row on the server (before this chunk's writes). */
  async lastOrigins(conflicts: ConflictRecord[]): Promise<Map<string, string | null>> {
    const rows = conflicts.filter((c) => c.kind !== 'duplicate-key');
    if (rows.length === 0) return new Map();
    await this.repo.awaitCapture();
    const out = await this.repo.lastOrigins(rows);
    for (const c of rows)
      if (this.ownWrites.has(rowKey(c.table, c.rowId))) out.set(rowKey(c.table, c.rowId), this.client);
    return out;
  }

  /** Per table, who holds the business keys the chunk's rows would take: key -> holder id. */
  async keyHolders(outcomes: RowOutcome[]): Promise<Map<string, Map<string, string>>> {
    const holders = new Map<string, Map<string, string>>();
    const candidates = keyCandidates(outcomes);
    if (candidates.length === 0) return holders;
    const inChunk = new Map<string, string[]>();
    for (const o of outcomes) push(inChunk, o.table.name, o.id);
    const byTable = new Map<TableDef, RowOutcome[]>();
    for (const c of candidates) push(byTable, c.table, c);
    for (const [table, rows] of byTable) {
      const keys = rows.map((r) => (r.after as RowValues).values);
      holders.set(table.name, await this.repo.keyHolders(table, keys, inChunk.get(table.name) ?? []));
    }
    return holders;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
