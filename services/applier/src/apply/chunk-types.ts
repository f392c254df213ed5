import type { DxRow, DxUploadTransaction } from '@outpost/dx-format';
import type { ConflictKind } from '@outpost/contracts';
import type { Schema, TableDef } from '@outpost/schema';

/*
 * What the applier's chunk resolution works on: the server's rows, the transactions of a chunk
 * with their trusted times, and what resolving them gives.
 */

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
