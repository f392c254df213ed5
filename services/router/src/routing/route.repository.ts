import { Inject, Injectable } from '@nestjs/common';
import type { DxRow } from '@outpost/dx-format';
import type { Schema, VisibilityPlan } from '@outpost/schema';
import { RouterDatabase, type Queryable, type Tx } from '../database/router-database';
import { SYNC_SCHEMA, VISIBILITY } from '../router.tokens';
import { rowBytesSql, rowJsonSql } from './row-json';

export interface LogEntry {
  seq: number;
  at: Date;
  table: string | null;
  rowId: string | null;
  op: 'insert' | 'update' | 'delete' | 'confirm';
  originClient: string | null;
  originUser: string | null;
  originTxnSeq: number | null;
  echo: boolean;
  oldRefs: Record<string, unknown> | null;
}

/** An active client and where its routing stands; `state` is null before its first extract. */
export interface RouteClient {
  name: string;
  userLogin: string;
  extractRequestedAt: Date | null;
  state: RouteState | null;
}

export interface RouteState {
  epoch: number;
  fromSeq: number;
  nextFileSeq: number;
  extractedAt: Date;
  failures: number;
  retryAt: Date | null;
  /** Schema version the client's holdings were last routed under (1 for states from before versions). */
  schemaVersion: number;
}

/**
 * What deciding a row needs of it: its version, the values of its columns other rows' visibility
 * follows (foreign keys), and the estimated size of its DX JSON. The row itself is read only while
 * its file is written (`rows`), a page at a time, so a batch of large rows is never held whole.
 */
export interface RowHead {
  id: string;
  version: number;
  refs: Record<string, unknown>;
  bytes: number;
}

export interface CurrentRow {
  id: string;
  version: number;
  row: DxRow;
}

export interface OutboundFileRecord {
  client: string;
  epoch: number;
  fileSeq: number;
  kind: 'changes' | 'extract';
  objectKey: string;
  sha256: string;
  size: number;
  txnCount: number;
  firstSeq: number;
  lastSeq: number;
}

export interface HoldingRef {
  table: string;
  id: string;
  /** The row version sent to the client; null when unknown. */
  version?: number | null;
}

/**
 * Snapshot reads a batch is decided on, in one REPEATABLE READ READ ONLY transaction: every row of
 * a batch is judged on the same database state, so a parent and its child can never be decided on
 * either side of a concurrent commit (which would send the child before its parent).
 */
export function readSnapshot<T>(db: RouterDatabase, work: (q: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(work, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
}

/** Every query of the routing loop; the batch ones take arrays (`= ANY($1)`), never one row at a time. */
@Injectable()
export class RouteRepository {
  private readonly rowSql = new Map<string, string>();
  private readonly headSql = new Map<string, string>();

  constructor(
    private readonly db: RouterDatabase,
    @Inject(SYNC_SCHEMA) schema: Schema,
    @Inject(VISIBILITY) private readonly visibility: VisibilityPlan,
  ) {
    for (const table of schema.tables) {
      this.rowSql.set(
        table.name,
        `SELECT t.id::text AS id, t.row_version AS version, ${rowJsonSql(table, 't')} AS row FROM "${table.name}" t WHERE t.id = ANY($1::uuid[])`,
      );
      const refs = refColumns(visibility, table.name).map((c) => `'${c}', t."${c}"`);
      this.headSql.set(
        table.name,
        `SELECT t.id::text AS id, t.row_version AS version, json_build_object(${refs.join(', ')}) AS refs, ` +
          `${rowBytesSql(table, 't')} AS bytes FROM "${table.name}" t WHERE t.id = ANY($1::uuid[])`,
      );
    }
  }

  async watermark(): Promise<number> {
    const rows = await this.db.query<{ last_seq: number }>('SELECT last_seq FROM sync_router_watermark');
    return rows[0]?.last_seq ?? 0;
  }

  /** Log entries after `afterSeq` (and at most `upToSeq`), oldest first. */
  async readLog(afterSeq: number, limit: number, upToSeq?: number): Promise<LogEntry[]> {
    const rows = await this.db.query<{
      seq: number;
      at: Date;
      table_name: string | null;
      row_id: string | null;
      op: LogEntry['op'];
      origin_client: string | null;
      origin_user: string | null;
      origin_txn_seq: number | null;
      echo: boolean;
      old_refs: Record<string, unknown> | null;
    }>(
      `SELECT seq, at, table_name, row_id::text AS row_id, op, origin_client, origin_user, origin_txn_seq, echo, old_refs
         FROM sync_txn_log WHERE seq > $1 AND ($3::bigint IS NULL OR seq <= $3) ORDER BY seq LIMIT $2`,
      [afterSeq, limit, upToSeq ?? null],
    );
    return rows.map((r) => ({
      seq: r.seq,
      at: r.at,
      table: r.table_name,
      rowId: r.row_id,
      op: r.op,
      originClient: r.origin_client,
      originUser: r.origin_user,
      originTxnSeq: r.origin_txn_seq,
      echo: r.echo,
      oldRefs: r.old_refs,
    }));
  }

  async activeClients(): Promise<RouteClient[]> {
    const rows = await this.db.query<{
      name: string;
      user_login: string;
      extract_requested_at: Date | null;
      epoch: number | null;
      from_seq: number | null;
      next_file_seq: number | null;
      extracted_at: Date | null;
      failures: number | null;
      retry_at: Date | null;
      schema_version: number | null;
    }>(
      `SELECT c.name, c.user_login, c.extract_requested_at, s.epoch, s.from_seq, s.next_file_seq, s.extracted_at, s.failures, s.retry_at, s.schema_version
         FROM sync_client c LEFT JOIN sync_route_state s ON s.client = c.name
        WHERE c.status = 'active' ORDER BY c.name`,
    );
    return rows.map((r) => ({
      name: r.name,
      userLogin: r.user_login,
      extractRequestedAt: r.extract_requested_at,
      state:
        r.epoch === null
          ? null
          : {
              epoch: r.epoch,
              fromSeq: r.from_seq as number,
              nextFileSeq: r.next_file_seq as number,
              extractedAt: r.extracted_at as Date,
              failures: r.failures as number,
              retryAt: r.retry_at,
              schemaVersion: r.schema_version ?? 1,
            },
    }));
  }

  async rowHeads(q: Queryable, table: string, ids: string[]): Promise<RowHead[]> {
    return q.query<RowHead>(this.headSql.get(table) as string, [ids]);
  }

  /** The rows as DX rows; call with pages of ids whose `bytes` add up to a bounded amount. */
  async currentRows(q: Queryable, table: string, ids: string[]): Promise<CurrentRow[]> {
    return q.query<CurrentRow>(this.rowSql.get(table) as string, [ids]);
  }

  /** Clients (among `clients`) that see each row now. */
  async recipients(
    q: Queryable,
    table: string,
    ids: string[],
    clients: string[],
  ): Promise<Map<string, Set<string>>> {
    const rows = await q.query<{ row_id: string; client: string }>(
      `SELECT f.row_id, f.client FROM (${this.visibility.forwardClientsSql(table)}) f WHERE f.client = ANY($2::text[])`,
      [ids, clients],
    );
    return groupBy(
      rows,
      (r) => r.row_id,
      (r) => r.client,
    );
  }

  /** Per row: the clients that hold it, each with the version it was last sent (null: unknown). */
  async holders(
    q: Queryable,
    table: string,
    ids: string[],
    clients: string[],
  ): Promise<Map<string, Map<string, number | null>>> {
    const rows = await q.query<{ row_id: string; client: string; version: number | null }>(
      `SELECT row_id::text AS row_id, client, version FROM sync_route_holding
        WHERE table_name = $1 AND row_id = ANY($2::uuid[]) AND client = ANY($3::text[])`,
      [table, ids, clients],
    );
    const out = new Map<string, Map<string, number | null>>();
    for (const r of rows) {
      let held = out.get(r.row_id);
      if (!held) out.set(r.row_id, (held = new Map()));
      held.set(r.client, r.version);
    }
    return out;
  }

  /** `(id, parent)` of the rows of `child` whose `fk` is one of `parentIds`. */
  async children(
    q: Queryable,
    child: string,
    fk: string,
    parentIds: string[],
  ): Promise<Array<{ id: string; parent: string }>> {
    return q.query(
      `SELECT id::text AS id, "${fk}"::text AS parent FROM "${child}" WHERE "${fk}" = ANY($1::uuid[])`,
      [parentIds],
    );
  }

  /** The highest download seq already given to each client in its current epoch (0 for none). */
  async lastDownloadSeqs(clients: Array<{ name: string; epoch: number }>): Promise<Map<string, number>> {
    const rows = await this.db.query<{ client: string; last_seq: number }>(
      `SELECT f.client, max(f.last_seq) AS last_seq FROM sync_outbound_file f
         JOIN unnest($1::text[], $2::int[]) AS c(name, epoch) ON c.name = f.client AND c.epoch = f.epoch
        GROUP BY f.client`,
      [clients.map((c) => c.name), clients.map((c) => c.epoch)],
    );
    return new Map(rows.map((r) => [r.client, r.last_seq]));
  }

  /** One client's batch, all or nothing: files registered, holdings updated, position advanced. */
  async commitClient(args: {
    client: string;
    files: OutboundFileRecord[];
    hold: HoldingRef[];
    release: HoldingRef[];
    nextFileSeq: number;
    fromSeq: number;
  }): Promise<void> {
    await this.db.transaction(async (tx) => {
      await insertFiles(tx, args.files);
      await changeHoldings(tx, args.client, args.hold, args.release);
      await tx.query(
        `UPDATE sync_route_state SET from_seq = $2, next_file_seq = $3, failures = 0, retry_at = NULL, last_error = NULL, updated_at = now()
          WHERE client = $1`,
        [args.client, args.fromSeq, args.nextFileSeq],
      );
    });
  }

  /**
   * Clients with nothing to receive in the batch move to its end with the watermark, in one
   * transaction: a crash before it re-reads the batch, and clients already past it skip it.
   */
  async advance(quietClients: string[], upToSeq: number, watermark: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (quietClients.length > 0) {
        await tx.query(
          `UPDATE sync_route_state SET from_seq = $2, updated_at = now() WHERE client = ANY($1::text[]) AND from_seq < $2`,
          [quietClients, upToSeq],
        );
      }
      await tx.query(
        'UPDATE sync_router_watermark SET last_seq = $1, updated_at = now() WHERE last_seq < $1',
        [watermark],
      );
    });
  }

  /** The client's holdings now follow `version` of the schema (after its partial re-extract). */
  async setSchemaVersion(client: string, version: number): Promise<void> {
    await this.db.query(
      'UPDATE sync_route_state SET schema_version = $2, updated_at = now() WHERE client = $1',
      [client, version],
    );
  }

  /** Records a failed attempt; the client is retried after `retryAfterMs` and catches up from its own position. */
  async markFailed(client: string, error: string, retryAfterMs: number): Promise<void> {
    await this.db.query(
      `UPDATE sync_route_state SET failures = failures + 1, last_error = $2,
              retry_at = now() + make_interval(secs => $3::double precision / 1000), updated_at = now()
        WHERE client = $1`,
      [client, error.slice(0, 2000), retryAfterMs],
    );
  }
}

export async function insertFiles(tx: Tx, files: OutboundFileRecord[]): Promise<void> {
  for (const f of files) {
    await tx.query(
      `INSERT INTO sync_outbound_file (client, epoch, file_seq, kind, object_key, sha256, size, txn_count, first_seq, last_seq)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        f.client,
        f.epoch,
        f.fileSeq,
        f.kind,
        f.objectKey,
        f.sha256,
        f.size,
        f.txnCount,
        f.firstSeq,
        f.lastSeq,
      ],
    );
  }
}

async function changeHoldings(
  tx: Tx,
  client: string,
  hold: HoldingRef[],
  release: HoldingRef[],
): Promise<void> {
  if (release.length > 0) {
    await tx.query(
      `DELETE FROM sync_route_holding h USING unnest($2::text[], $3::uuid[]) AS r(table_name, row_id)
        WHERE h.client = $1 AND h.table_name = r.table_name AND h.row_id = r.row_id`,
      [client, release.map((r) => r.table), release.map((r) => r.id)],
    );
  }
  if (hold.length > 0) {
    await tx.query(
      `INSERT INTO sync_route_holding (client, table_name, row_id, version)
       SELECT $1, r.table_name, r.row_id, r.version
         FROM unnest($2::text[], $3::uuid[], $4::bigint[]) AS r(table_name, row_id, version)
       ON CONFLICT (client, table_name, row_id) DO UPDATE SET version = EXCLUDED.version`,
      [client, hold.map((r) => r.table), hold.map((r) => r.id), hold.map((r) => r.version ?? null)],
    );
  }
}

/** Columns of `table` whose values the routing of other rows follows (see RouteBatch). */
function refColumns(visibility: VisibilityPlan, table: string): string[] {
  const out = new Set<string>();
  for (const dep of visibility.fkDependencies) if (dep.source === table) out.add(dep.fk);
  for (const cascade of visibility.childCascades) if (cascade.child === table) out.add(cascade.fk);
  return [...out];
}

function groupBy<T>(rows: T[], key: (r: T) => string, value: (r: T) => string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of rows) {
    const k = key(r);
    let set = out.get(k);
    if (!set) out.set(k, (set = new Set()));
    set.add(value(r));
  }
  return out;
}
