import { Inject, Injectable } from '@nestjs/common';
import type { DxTransaction } from '@outpost/dx-format';
import type { Schema, VisibilityPlan } from '@outpost/schema';
import type { RouterConfig } from '../config/router.config';
import { RouterDatabase, Tx } from '../database/router-database';
import { OutboxWriter } from '../outbox/outbox-writer';
import { ROUTER_CONFIG, SYNC_SCHEMA, VISIBILITY } from '../router.tokens';
import { rowJsonSql } from '../routing/row-json';
import {
  insertFiles,
  type CurrentRow,
  type OutboundFileRecord,
  type RouteClient,
} from '../routing/route.repository';

export interface ExtractResult {
  epoch: number;
  rows: number;
  /** Log seq of the snapshot: routing resumes after it. */
  snapshotSeq: number;
  bytes: number;
}

interface Snapshot {
  snapshot: string;
  at: Date;
  max_seq: number;
  applied: number | null;
}

/**
 * Database Extract: one snapshot of everything the client's user sees, streamed table by table
 * (foreign-key order) through a server-side cursor into one `extract` DX file. The holdings are
 * rebuilt from the same snapshot (imported into the write transaction), so they are exactly the
 * extracted rows, and routing resumes after the snapshot's last log seq: nothing missed, nothing twice.
 */
@Injectable()
export class ExtractService {
  private readonly countSql = new Map<string, string>();
  private readonly rowsSql = new Map<string, string>();
  private readonly holdSql = new Map<string, string>();
  private readonly pageSize: number;

  constructor(
    private readonly db: RouterDatabase,
    @Inject(SYNC_SCHEMA) private readonly schema: Schema,
    @Inject(VISIBILITY) visibility: VisibilityPlan,
    private readonly outbox: OutboxWriter,
    @Inject(ROUTER_CONFIG) config: RouterConfig,
  ) {
    this.pageSize = config.extractPageSize;
    for (const table of schema.tables) {
      const ids = visibility.inverseIdsSql(table.name);
      this.countSql.set(table.name, `SELECT count(*)::int AS n FROM (${ids}) v`);
      this.rowsSql.set(
        table.name,
        `SELECT t.id::text AS id, t.row_version AS version, ${rowJsonSql(table, 't')} AS row FROM "${table.name}" t WHERE t.id IN (${ids})`,
      );
      this.holdSql.set(
        table.name,
        `INSERT INTO sync_route_holding (client, table_name, row_id, version)
         SELECT $2::text, '${table.name}', t.id, t.row_version FROM "${table.name}" t WHERE t.id IN (${ids})`,
      );
    }
  }

  /** Whether the client needs a (re)extract before anything else is routed to it. */
  static pending(client: RouteClient): boolean {
    if (client.state === null) return true;
    return client.extractRequestedAt !== null && client.extractRequestedAt > client.state.extractedAt;
  }

  async extract(client: RouteClient): Promise<ExtractResult> {
    const epoch = (client.state?.epoch ?? 0) + 1;
    const conn = await this.db.pool.connect();
    const reader = new Tx(conn);
    try {
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const [snap] = await reader.query<Snapshot>(
        `SELECT pg_export_snapshot() AS snapshot, now() AS at,
                (SELECT coalesce(max(seq), 0) FROM sync_txn_log) AS max_seq,
                (SELECT txn_seq FROM sync_apply_position WHERE client = $1) AS applied`,
        [client.name],
      );
      let rows = 0;
      for (const table of this.schema.tables) {
        const [count] = await reader.query<{ n: number }>(this.countSql.get(table.name) as string, [
          client.userLogin,
        ]);
        rows += count.n;
      }
      const spec = {
        client: client.name,
        epoch,
        fileSeq: 1,
        kind: 'extract' as const,
        firstSeq: 1,
        lastSeq: rows + 1,
        count: rows + 1,
      };
      const written = await this.outbox.write(spec, this.stream(reader, client, snap));
      await this.commit(client, snap, epoch, { ...spec, ...written, txnCount: rows + 1 });
      await reader.query('COMMIT');
      return { epoch, rows, snapshotSeq: snap.max_seq, bytes: written.size };
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      conn.release();
    }
  }

  /** The extract's transactions: a confirm of what the server has applied from the client, then every visible row. */
  private async *stream(reader: Tx, client: RouteClient, snap: Snapshot): AsyncGenerator<DxTransaction> {
    const at = snap.at.toISOString();
    yield { seq: 1, at, user: '', table: '', id: '', op: 'confirm', upTo: snap.applied ?? 0 };
    let seq = 1;
    for (const table of this.schema.tables) {
      await reader.query(
        `DECLARE outpost_extract NO SCROLL CURSOR FOR ${this.rowsSql.get(table.name) as string}`,
        [client.userLogin],
      );
      for (;;) {
        const page = await reader.query<CurrentRow>(`FETCH ${this.pageSize} FROM outpost_extract`);
        for (const r of page) {
          seq += 1;
          yield {
            seq,
            at,
            user: '',
            table: table.name,
            id: r.id,
            op: 'upsert',
            version: r.version,
            row: r.row,
          };
        }
        if (page.length < this.pageSize) break;
      }
      await reader.query('CLOSE outpost_extract');
    }
  }

  /** Holdings, route state and the file registration in one transaction on the extract's snapshot. */
  private async commit(
    client: RouteClient,
    snap: Snapshot,
    epoch: number,
    file: Omit<OutboundFileRecord, 'client' | 'epoch' | 'kind'>,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`SET TRANSACTION SNAPSHOT '${snap.snapshot.replace(/'/g, "''")}'`);
      await tx.query('DELETE FROM sync_route_holding WHERE client = $1', [client.name]);
      for (const table of this.schema.tables) {
        await tx.query(this.holdSql.get(table.name) as string, [client.userLogin, client.name]);
      }
      await tx.query(
        `INSERT INTO sync_route_state (client, epoch, from_seq, next_file_seq, extracted_at, schema_version)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (client) DO UPDATE SET epoch = EXCLUDED.epoch, from_seq = EXCLUDED.from_seq,
           next_file_seq = EXCLUDED.next_file_seq, extracted_at = EXCLUDED.extracted_at,
           schema_version = EXCLUDED.schema_version,
           failures = 0, retry_at = NULL, last_error = NULL, updated_at = now()`,
        [client.name, epoch, snap.max_seq, file.fileSeq + 1, snap.at, this.schema.version],
      );
      await tx.query(
        `UPDATE sync_outbound_file SET obsolete_at = now()
          WHERE client = $1 AND epoch < $2 AND acked_at IS NULL AND obsolete_at IS NULL`,
        [client.name, epoch],
      );
      await insertFiles(tx, [{ client: client.name, epoch, kind: 'extract', ...file }]);
    }, 'BEGIN ISOLATION LEVEL REPEATABLE READ');
  }
}
