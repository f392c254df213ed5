import type { DxRow, DxUploadTransaction, DxValue } from '@outpost/dx-format';
import {
  ColumnValueError,
  dxKey,
  normalizeDx,
  type ColumnDef,
  type Schema,
  type TableDef,
} from '@outpost/schema';
import type { ConflictKind } from '@outpost/contracts';
import { ApplyRejection, ApplyRejectionCode } from './apply-rejection';

/** A synced row as the server holds it; values are normalised DX values of the business columns. */
export interface ServerRow {
  values: DxRow;
  conflictOf: string | null;
  version: number;
  /** ISO UTC. */
  updatedAt: string;
}

export interface RowValues {
  values: DxRow;
  conflictOf: string | null;
  /** When the row last changed: the client's transaction time for a client's change, so latest-wins compares change times. */
  changedAt: string;
}

/** One row the chunk touched: what the server held before the chunk and what it holds after. */
export interface RowOutcome {
  table: TableDef;
  id: string;
  before: ServerRow | null;
  after: RowValues | null;
  /** User of the last transaction that touched the row (the log's origin_user). */
  user: string;
  lastTxnIndex: number;
  /** The client's copy differs from the outcome: send the row back to it too. */
  echo: boolean;
}

export interface ConflictRecord {
  kind: ConflictKind;
  table: string;
  rowId: string;
  column: string | null;
  serverValue: unknown;
  clientValue: unknown;
  serverAt: string | null;
  /** The change time the laptop gave. */
  clientAt: string;
  /** The time latest-wins compared instead, when the laptop's was after the file's receipt. */
  clientAtClamped: string | null;
  policy: string;
  winner: 'server' | 'client';
}

export interface IndexedTxn {
  /** 0-based index in the file. */
  index: number;
  tx: DxUploadTransaction;
  /**
   * The change time the server trusts: the laptop's `at`, but never later than the server received
   * the file, so a laptop clock set in the future cannot win latest-wins for ever.
   */
  at: string;
}

/** A transaction with its trusted change time (see IndexedTxn.at). */
export function indexTxn(index: number, tx: DxUploadTransaction, receivedAt: Date): IndexedTxn {
  const at = Date.parse(tx.at) > receivedAt.getTime() ? receivedAt.toISOString() : tx.at;
  return { index, tx, at };
}

export interface ChunkContext {
  schema: Schema;
  client: string;
  /** Server rows of the chunk's ids, keyed by rowKey(table, id). */
  loaded: Map<string, ServerRow>;
  /** For rows a delete may conflict on: origins of the latest changes, newest first (null = direct SQL). */
  recentOrigins: Map<string, Array<string | null>>;
  /** Last values of rows the server deleted, for tables whose delete policy resurrects. */
  deleted?: Map<string, DxRow>;
  /** Per table, columns a later schema version dropped: a change made before still names them; they are ignored. */
  dropped?: ReadonlyMap<string, ReadonlySet<string>>;
}

export const rowKey = (table: string, id: string): string => `${table}\u0000${id}`;

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

/** The business-key values of a row, or null when a key column is null (a unique index never matches nulls). */
export function businessKey(table: TableDef, values: DxRow): string | null {
  if (!table.uniqueKey) return null;
  const parts: string[] = [];
  for (const name of table.uniqueKey) {
    const col = table.columns.find((c) => c.name === name) as ColumnDef;
    const v = values[name];
    if (v === null || v === undefined) return null;
    parts.push(dxKey(col, v));
  }
  return parts.join('\u0001');
}

/** Rows whose business key is new or changed and not yet marked: they need a duplicate check. */
export function keyCandidates(outcomes: RowOutcome[]): RowOutcome[] {
  return outcomes.filter((o) => {
    if (!o.table.uniqueKey || !o.after || o.after.conflictOf !== null) return false;
    const key = businessKey(o.table, o.after.values);
    if (key === null) return false;
    return !o.before || o.before.conflictOf !== null || businessKey(o.table, o.before.values) !== key;
  });
}

/**
 * Insert (or re-key) with a business key another row already holds: both rows are kept, the
 * incoming one is marked `sync_conflict_of` = the holder, so the partial unique index holds and a
 * person can merge them. `holders` maps table -> key -> id of unmarked server rows outside the chunk.
 */
export function markDuplicateKeys(
  outcomes: RowOutcome[],
  holders: Map<string, Map<string, string>>,
  txnAt: (index: number) => string,
): ConflictRecord[] {
  const conflicts: ConflictRecord[] = [];
  const candidates = new Set(keyCandidates(outcomes));
  const claims = new Map<string, Map<string, string>>();
  const claimsOf = (table: string) => {
    let m = claims.get(table);
    if (!m) claims.set(table, (m = new Map(holders.get(table) ?? [])));
    return m;
  };
  // Rows that keep the key they already held in the database keep their claim.
  for (const o of outcomes) {
    if (candidates.has(o) || !o.after || o.after.conflictOf !== null) continue;
    const key = businessKey(o.table, o.after.values);
    if (key !== null) claimsOf(o.table.name).set(key, o.id);
  }
  const ordered = [...candidates].sort((a, b) => a.lastTxnIndex - b.lastTxnIndex);
  for (const o of ordered) {
    const after = o.after as RowValues;
    const key = businessKey(o.table, after.values) as string;
    const tableClaims = claimsOf(o.table.name);
    const holder = tableClaims.get(key);
    if (holder === undefined || holder === o.id) {
      tableClaims.set(key, o.id);
      continue;
    }
    after.conflictOf = holder;
    o.echo = true;
    const keyValues = Object.fromEntries((o.table.uniqueKey ?? []).map((c) => [c, after.values[c]]));
    conflicts.push({
      kind: 'duplicate-key',
      table: o.table.name,
      rowId: o.id,
      column: (o.table.uniqueKey ?? []).join(','),
      serverValue: { id: holder, ...keyValues },
      clientValue: { id: o.id, ...keyValues },
      serverAt: null,
      clientAt: txnAt(o.lastTxnIndex),
      clientAtClamped: null,
      policy: 'keep-both',
      winner: 'server',
    });
  }
  return conflicts;
}
