/** One change to a row in the batch being routed, as far as deciding its recipients goes. */
export interface RowChange {
  seq: number;
  originClient: string | null;
  echo: boolean;
  /** Whether the change inserted the row. */
  insert: boolean;
  /** Whether the change deleted the row. */
  delete: boolean;
}

/** A row whose recipients are being decided, read from the current database state. */
export interface RowState {
  exists: boolean;
  /** Active clients that see the row now. */
  recipients: ReadonlySet<string>;
  /** Clients that hold the row (sync_route_holding). */
  holders: ReadonlySet<string>;
  /** The row version each holder was last sent (absent or null: unknown). */
  heldVersions?: ReadonlyMap<string, number | null>;
  /** The row's current version (when it exists). */
  version?: number;
  /** Changes of the row in this batch; empty for a row affected only through another row. */
  changes: readonly RowChange[];
}

/**
 * What one client gets for one row. `hold` and `forget` change the holding without sending
 * anything: the client is the origin of the change and already has its result.
 */
export type RowAction = 'upsert' | 'delete' | 'evict' | 'hold' | 'forget';

/** True when every change of the row this client has not seen yet came from the client itself, none an echo. */
function ownChangesOnly(changes: readonly RowChange[], client: string, fromSeq: number): boolean {
  let any = false;
  for (const c of changes) {
    if (c.seq <= fromSeq) continue;
    if (c.originClient !== client || c.echo) return false;
    any = true;
  }
  return any;
}

function echoedTo(changes: readonly RowChange[], client: string, fromSeq: number): boolean {
  return changes.some((c) => c.seq > fromSeq && c.echo && c.originClient === client);
}

function insertedBy(changes: readonly RowChange[], client: string, fromSeq: number): boolean {
  return changes.some((c) => c.seq > fromSeq && c.insert && c.originClient === client);
}

function changedBy(changes: readonly RowChange[], client: string, fromSeq: number): boolean {
  return changes.some((c) => c.seq > fromSeq && c.originClient === client);
}

function changedSince(changes: readonly RowChange[], fromSeq: number): boolean {
  return changes.some((c) => c.seq > fromSeq);
}

/**
 * The client was already sent this very version (by its extract or an earlier batch whose
 * snapshot saw a change the log had not reached yet), and no echo asks for it again: sending it
 * twice would change nothing. Row versions move on every update, so an equal version is an equal row.
 */
function alreadySent(row: RowState, client: string, fromSeq: number): boolean {
  const held = row.heldVersions?.get(client);
  if (held === undefined || held === null || held !== row.version) return false;
  // A row deleted and inserted again (a deleted contact resurrected by an update) starts over at
  // version 1: an equal version no longer means an equal row. An insert alone is no such case: the
  // extract's snapshot may already hold a row whose insert the capture logged after it.
  const since = row.changes.filter((c) => c.seq > fromSeq);
  if (since.some((c) => c.delete) && since.some((c) => c.insert)) return false;
  return !row.changes.some((c) => c.seq > fromSeq && c.echo && c.originClient === client);
}

/**
 * The download semantics for one row and one client: the current row to whoever newly sees it or
 * holds it and did not make the change itself (echoes excepted), evict when it left the client's
 * visibility, delete to holders when it is gone. Changes at or below the client's `fromSeq` are
 * already in its extract snapshot.
 */
export function decideRow(row: RowState, client: string, fromSeq: number): RowAction | null {
  const held = row.holders.has(client);
  if (!row.exists) {
    // An echo tells its origin the server's state even of a row it never held: a change of it was
    // refused (a rejected file inserted it), so the laptop must drop its copy.
    if (!held) return echoedTo(row.changes, client, fromSeq) ? 'delete' : null;
    return ownChangesOnly(row.changes, client, fromSeq) ? 'forget' : 'delete';
  }
  const visible = row.recipients.has(client);
  // A row the client changed has a copy on its laptop even when it was never sent one: its own
  // insert or change took the row out of its user's visibility (handed off before the first sync,
  // or attached to a parent deleted meanwhile), or a change of it was refused.
  if (!visible && !held && changedBy(row.changes, client, fromSeq)) return 'evict';
  // Only a row the client inserted itself is surely on its laptop: a row it updated may have been
  // evicted from it meanwhile (the eviction crossed the update), so it is sent again.
  if (visible && !held)
    return ownChangesOnly(row.changes, client, fromSeq) && insertedBy(row.changes, client, fromSeq)
      ? 'hold'
      : 'upsert';
  if (visible)
    return changedSince(row.changes, fromSeq) &&
      !ownChangesOnly(row.changes, client, fromSeq) &&
      !alreadySent(row, client, fromSeq)
      ? 'upsert'
      : null;
  return held ? 'evict' : null;
}

/** Whether the row gained or lost a client: only then can rows that depend on it change visibility. */
export function visibilityChanged(row: RowState, clients: Iterable<string>): boolean {
  for (const client of clients) {
    const visible = row.exists && row.recipients.has(client);
    if (visible !== row.holders.has(client)) return true;
  }
  return false;
}

/** What caused a row to be routed: the newest log entry of the row, or of the row it depends on. */
export interface Cause {
  seq: number;
  at: string;
  user: string;
}

/** An upsert names its row by id and version; `bytes` (its estimated size) pages the reads of rows. */
export type OutboundOp =
  | { op: 'upsert'; table: string; id: string; version: number; bytes: number; cause: Cause }
  | { op: 'delete' | 'evict'; table: string; id: string; cause: Cause };

export interface OutboundConfirm {
  upTo: number;
  cause: Cause;
}

/**
 * Orders one client's transactions for a file: the confirm first; upserts parents before children
 * (table order), then deletes and evicts children before parents; within a table by cause, then id.
 */
export function orderOutbound(ops: OutboundOp[], tableOrder: readonly string[]): OutboundOp[] {
  const rank = new Map(tableOrder.map((t, i) => [t, i]));
  const key = (o: OutboundOp): number => {
    const r = rank.get(o.table) ?? 0;
    return o.op === 'upsert' ? r : tableOrder.length * 2 - r;
  };
  return [...ops].sort(
    (a, b) => key(a) - key(b) || a.cause.seq - b.cause.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/**
 * Download seqs: the log seq that caused each transaction where that keeps them strictly increasing,
 * else one more than the previous. Table ordering and cascades can put a transaction with an older
 * cause after a newer one; the bump keeps the file valid and seqs increasing across a client's files.
 */
export function assignSeqs(causes: readonly number[], lastSeq: number): number[] {
  const out: number[] = [];
  let prev = lastSeq;
  for (const cause of causes) {
    prev = Math.max(prev + 1, cause);
    out.push(prev);
  }
  return out;
}
