import type { DxRow, DxValue } from '@outpost/dx-format';
import { ColumnValueError, dxKey, normalizeDx, type ColumnDef, type TableDef } from '@outpost/schema';
import type { ConflictKind } from '@outpost/contracts';
import { ApplyRejection, ApplyRejectionCode } from './apply-rejection';

import {
  type ChunkContext,
  type ConflictRecord,
  type IndexedTxn,
  type RowOutcome,
  type ServerRow,
  rowKey,
} from './chunk-types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SYNC_MANAGED = new Set(['row_version', 'updated_at', 'sync_conflict_of']);

/** Where a transaction sits in its file, for rejection messages. */
function where(t: IndexedTxn): string {
  return `transaction #${t.index} (seq ${t.tx.seq}, table "${t.tx.table}", id ${t.tx.id})`;
}

/**
 * Resolves a chunk of upload transactions in order against the server rows, in memory: field-level
 * conflict detection (a change conflicts only on columns whose server value differs from the
 * change's old value), the table's update and delete policies, and validation of every table,
 * column and value. Returns the final state of each touched row and the conflicts to record.
 */
export function resolveChunk(
  ctx: ChunkContext,
  txns: IndexedTxn[],
): { outcomes: RowOutcome[]; conflicts: ConflictRecord[] } {
  const states = new Map<string, RowOutcome>();
  const conflicts: ConflictRecord[] = [];
  for (const t of txns) {
    const table = ctx.schema.table(t.tx.table);
    if (!table) {
      throw new ApplyRejection(
        ApplyRejectionCode.UnknownTable,
        `${where(t)}: table "${t.tx.table}" is not in schema "${ctx.schema.name}" v${ctx.schema.version}; the client's schema does not match the server's — upgrade the client or the server schema, then retry the file`,
      );
    }
    if (typeof t.tx.id !== 'string' || !UUID.test(t.tx.id)) {
      throw new ApplyRejection(
        ApplyRejectionCode.BadValue,
        `${where(t)}: the row id is not a lowercase UUID; fix the client that wrote it`,
      );
    }
    const key = rowKey(table.name, t.tx.id);
    let st = states.get(key);
    if (!st) {
      const before = ctx.loaded.get(key) ?? null;
      st = {
        table,
        id: t.tx.id,
        before,
        after: before && {
          values: { ...before.values },
          conflictOf: before.conflictOf,
          changedAt: before.updatedAt,
        },
        user: t.tx.user,
        lastTxnIndex: t.index,
        echo: false,
      };
      states.set(key, st);
    }
    st.user = t.tx.user;
    st.lastTxnIndex = t.index;
    const resolver = new TxnResolver(ctx, t, table, st, conflicts);
    resolver.apply();
  }
  return { outcomes: [...states.values()], conflicts };
}

class TxnResolver {
  constructor(
    private readonly ctx: ChunkContext,
    private readonly t: IndexedTxn,
    private readonly table: TableDef,
    private readonly st: RowOutcome,
    private readonly conflicts: ConflictRecord[],
  ) {}

  apply(): void {
    const tx = this.t.tx;
    switch (tx.op) {
      case 'insert':
        return this.insert(this.checkRow(tx.row));
      case 'update':
        return this.update(this.checkChanges(tx.changes));
      case 'delete':
        return this.delete(tx.base);
      default:
        throw new ApplyRejection(
          ApplyRejectionCode.BadOperation,
          `${where(this.t)}: op "${(tx as { op: string }).op}" cannot appear in an upload file; fix the client that wrote it`,
        );
    }
  }

  /**
   * An insert of an id the server already holds (the client cannot know it exists: ids are UUIDs,
   * so this is a replayed or copied row) is resolved as an update of every column whose value
   * differs, with no old value to merge on: each such column is an update-update conflict under
   * the table's update policy.
   */
  private insert(row: DxRow): void {
    if (!this.st.after) {
      this.st.after = { values: row, conflictOf: null, changedAt: this.t.at };
      return;
    }
    for (const col of this.table.columns) {
      if (col.name === 'id') continue;
      const server = this.st.after.values[col.name];
      if (dxKey(col, server) !== dxKey(col, row[col.name])) this.conflict(col, server, row[col.name]);
    }
  }

  private update(changes: Array<{ col: ColumnDef; old: DxValue; new: DxValue }>): void {
    if (!this.st.after) return this.updateOfDeleted(changes);
    for (const change of changes) {
      const current = this.st.after.values[change.col.name];
      const currentKey = dxKey(change.col, current);
      if (currentKey === dxKey(change.col, change.old)) {
        this.st.after.values[change.col.name] = change.new;
        this.st.after.changedAt = this.t.at;
      } else if (currentKey !== dxKey(change.col, change.new)) this.conflict(change.col, current, change.new);
    }
  }

  /** Update vs delete: the row is gone on the server. */
  private updateOfDeleted(changes: Array<{ col: ColumnDef; old: DxValue; new: DxValue }>): void {
    const clientValue = Object.fromEntries(changes.map((c) => [c.col.name, c.new]));
    let winner: 'server' | 'client' = 'server';
    if (this.table.conflict.delete === 'resurrect') {
      // Resurrect: the row's last values before the delete (kept by the delete's log row) with the
      // client's new values on top. Without a value for a required column (a row deleted before
      // its values were kept) the row cannot come back and the delete stands.
      const last = this.ctx.deleted?.get(rowKey(this.table.name, this.st.id)) ?? {};
      const values: DxRow = { id: this.st.id };
      for (const col of this.table.columns)
        if (col.name !== 'id') values[col.name] = clientValue[col.name] ?? last[col.name] ?? null;
      const complete = this.table.columns.every(
        (c) => c.name === 'id' || c.nullable || values[c.name] !== null,
      );
      if (complete) {
        this.st.after = { values, conflictOf: null, changedAt: this.t.at };
        winner = 'client';
      }
    }
    this.st.echo = true;
    this.record('update-delete', null, null, clientValue, this.table.conflict.delete, winner);
  }

  /** Client delete vs server update: the delete wins; the server's values are kept in the conflict record. */
  private delete(base: number | null): void {
    if (!this.st.after) return;
    const before = this.st.before;
    if (before && this.changedByOthersSince(before, base)) {
      this.record('update-delete', null, this.st.after.values, null, 'delete-wins', 'client');
    }
    this.st.after = null;
  }

  private changedByOthersSince(before: ServerRow, base: number | null): boolean {
    // A row the client inserted itself has no base yet: its version 1 is that insert.
    const seen = base ?? 1;
    const newer = before.version - seen;
    if (newer <= 0) return false;
    const origins = this.ctx.recentOrigins.get(rowKey(this.table.name, this.st.id)) ?? [];
    if (origins.length < newer) return true;
    return origins.slice(0, newer).some((o) => o !== this.ctx.client);
  }

  /** Update vs update on one column, under the table's update policy. */
  private conflict(col: ColumnDef, server: DxValue, client: DxValue): void {
    const policy = this.table.conflict.update;
    let winner: 'server' | 'client';
    switch (policy) {
      case 'server-wins':
        winner = 'server';
        break;
      case 'client-wins':
        winner = 'client';
        break;
      case 'latest-wins': {
        const serverAt = this.st.before ? Date.parse(this.st.before.updatedAt) : -Infinity;
        winner = Date.parse(this.t.at) > serverAt ? 'client' : 'server';
        break;
      }
    }
    if (winner === 'client' && this.st.after) {
      this.st.after.values[col.name] = client;
      this.st.after.changedAt = this.t.at;
    } else this.st.echo = true;
    this.record('update-update', col.name, server, client, policy, winner);
  }

  private record(
    kind: ConflictKind,
    column: string | null,
    serverValue: unknown,
    clientValue: unknown,
    policy: string,
    winner: 'server' | 'client',
  ): void {
    this.conflicts.push({
      kind,
      table: this.table.name,
      rowId: this.st.id,
      column,
      serverValue,
      clientValue,
      serverAt: this.st.before?.updatedAt ?? null,
      clientAt: this.t.tx.at,
      clientAtClamped: this.t.at === this.t.tx.at ? null : this.t.at,
      policy,
      winner,
    });
  }

  private column(name: string): ColumnDef {
    const col = this.table.columns.find((c) => c.name === name);
    if (!col) {
      throw new ApplyRejection(
        ApplyRejectionCode.UnknownColumn,
        `${where(this.t)}: column "${name}" is not in table "${this.table.name}" of schema "${this.ctx.schema.name}" v${this.ctx.schema.version}; the client's schema does not match the server's — upgrade the client or the server schema, then retry the file`,
      );
    }
    return col;
  }

  private value(col: ColumnDef, value: DxValue | undefined, what: string): DxValue {
    try {
      return normalizeDx(col, value ?? null);
    } catch (err) {
      if (!(err instanceof ColumnValueError)) throw err;
      throw new ApplyRejection(
        ApplyRejectionCode.BadValue,
        `${where(this.t)}: ${what} of column "${col.name}" (${col.type}${col.nullable ? ', nullable' : ''}): ${err.problem}; fix the client that wrote it`,
      );
    }
  }

  private isDropped(name: string): boolean {
    return this.ctx.dropped?.get(this.table.name)?.has(name) === true;
  }

  /**
   * An insert without a value for a column (made under a schema version before the column existed)
   * gets the column's default, as the row did on the laptop when it upgraded.
   */
  private checkRow(row: DxRow): DxRow {
    for (const name of Object.keys(row))
      if (!SYNC_MANAGED.has(name) && !this.isDropped(name)) this.column(name);
    if (row.id !== undefined && row.id !== this.st.id) {
      throw new ApplyRejection(
        ApplyRejectionCode.BadValue,
        `${where(this.t)}: row.id ${JSON.stringify(row.id)} differs from the transaction id; fix the client that wrote it`,
      );
    }
    const out: DxRow = { id: this.st.id };
    for (const col of this.table.columns) {
      if (col.name === 'id') continue;
      const value = this.value(col, row[col.name] === undefined ? col.default : row[col.name], 'the value');
      if (value === null && !col.nullable) {
        throw new ApplyRejection(
          ApplyRejectionCode.BadValue,
          `${where(this.t)}: the insert has no value for required column "${col.name}"; fix the client that wrote it`,
        );
      }
      out[col.name] = value;
    }
    return out;
  }

  private checkChanges(
    changes: Record<string, { old: DxValue; new: DxValue }>,
  ): Array<{ col: ColumnDef; old: DxValue; new: DxValue }> {
    const out: Array<{ col: ColumnDef; old: DxValue; new: DxValue }> = [];
    for (const [name, change] of Object.entries(changes)) {
      if (SYNC_MANAGED.has(name) || this.isDropped(name)) continue;
      const col = this.column(name);
      if (col.name === 'id') {
        throw new ApplyRejection(
          ApplyRejectionCode.BadOperation,
          `${where(this.t)}: an update changes the row id, which never changes; fix the client that wrote it`,
        );
      }
      const next = this.value(col, change.new, 'the new value');
      if (next === null && !col.nullable) {
        throw new ApplyRejection(
          ApplyRejectionCode.BadValue,
          `${where(this.t)}: the new value of required column "${col.name}" is null; fix the client that wrote it`,
        );
      }
      out.push({ col, old: this.value(col, change.old, 'the old value'), new: next });
    }
    return out;
  }
}
