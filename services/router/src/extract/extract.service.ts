import { Inject, Injectable } from '@nestjs/common';
import type { DxWriter } from '@outpost/dx-format';
import type { Schema, VisibilityPlan } from '@outpost/schema';
import type { PoolClient } from 'pg';
import type { RouterConfig } from '../config/router.config';
import { RouterDatabase, Tx } from '../database/router-database';
import { OutboxWriter } from '../outbox/outbox-writer';
import { ROUTER_CONFIG, SYNC_SCHEMA, VISIBILITY } from '../router.tokens';
import { insertFiles, type OutboundFileRecord, type RouteClient } from '../routing/route.repository';
import { ExtractRows, type ExtractRowText } from './extract-rows';

export interface ExtractResult {
  epoch: number;
  rows: number;
  /** Log seq of the snapshot: routing resumes after it. */
  snapshotSeq: number;
  bytes: number;
  /** Where the time went, in ms: counting the rows, writing and storing the file, the holdings. */
  phases: { count: number; file: number; holdings: number };
}

interface Snapshot {
  snapshot: string;
  at: Date;
  max_seq: number;
  applied: number | null;
}

/** Extract rows come as Postgres's text output, in arrays: no type parsing, no row objects. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

interface ExtractTable {
  name: string;
  rows: ExtractRows;
  cursorSql: string;
  holdSql: string;
}

/**
 * Database Extract: one snapshot of everything the client's user sees, streamed table by table
 * (foreign-key order) through a server-side cursor into one `extract` DX file. The holdings are
 * rebuilt from the same snapshot (imported into the write transaction), so they are exactly the
 * extracted rows, and routing resumes after the snapshot's last log seq: nothing missed, nothing twice.
 * The holdings are written while the file streams, on their own connection: the two are the bulk of
 * the work and use different cores; the write transaction commits only once the file is stored.
 */
@Injectable()
export class ExtractService {
  private readonly tables: ExtractTable[];
  private readonly countSql: string;
  private readonly pageSize: number;

  constructor(
    private readonly db: RouterDatabase,
    @Inject(SYNC_SCHEMA) private readonly schema: Schema,
    @Inject(VISIBILITY) visibility: VisibilityPlan,
    private readonly outbox: OutboxWriter,
    @Inject(ROUTER_CONFIG) config: RouterConfig,
  ) {
    this.pageSize = config.extractPageSize;
    this.tables = schema.tables.map((table) => {
      const ids = visibility.inverseIdsSql(table.name);
      const rows = new ExtractRows(table);
      return {
        name: table.name,
        rows,
        // In id order: the laptop's primary-key index and the holdings' indexes then fill in order
        // instead of at random pages, which costs less than the sort.
        cursorSql: `SELECT ${rows.selectList} FROM "${table.name}" t WHERE t.id IN (${ids}) ORDER BY t.id`,
        holdSql: `INSERT INTO sync_route_holding (client, table_name, row_id, version)
         SELECT $2::text, '${table.name}', t.id, t.row_version FROM "${table.name}" t WHERE t.id IN (${ids})
         ORDER BY t.id`,
      };
    });
    const counts = schema.tables.map((t) => `(SELECT count(*) FROM (${visibility.inverseIdsSql(t.name)}) v)`);
    this.countSql = `SELECT (${counts.length > 0 ? counts.join(' + ') : '0'})::int AS n`;
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
      const started = Date.now();
      const [count] = await reader.query<{ n: number }>(this.countSql, [client.userLogin]);
      const rows = count.n;
      const phases = { count: Date.now() - started, file: 0, holdings: 0 };
      const spec = {
        client: client.name,
        epoch,
        fileSeq: 1,
        kind: 'extract' as const,
        firstSeq: 1,
        lastSeq: rows + 1,
        count: rows + 1,
      };
      const stop = { requested: false };
      const fileStarted = Date.now();
      const upload = this.outbox
        .writeWith(spec, (writer) => this.fill(writer, conn, client, snap, stop))
        .finally(() => (phases.file = Date.now() - fileStarted));
      upload.catch(() => undefined);
      try {
        await this.commit(client, snap, epoch, phases, async () => ({
          ...spec,
          ...(await upload),
          txnCount: rows + 1,
        }));
      } catch (err) {
        // The reader's connection is released only once nothing queries on it any more.
        stop.requested = true;
        await upload.catch(() => undefined);
        throw err;
      }
      const written = await upload;
      await reader.query('COMMIT');
      return { epoch, rows, snapshotSeq: snap.max_seq, bytes: written.size, phases };
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      conn.release();
    }
  }

  /**
   * The extract's transactions: a confirm of what the server has applied from the client, then every
   * visible row. The next page is fetched while the current one is encoded.
   */
  private async fill(
    writer: DxWriter,
    conn: PoolClient,
    client: RouteClient,
    snap: Snapshot,
    stop: { requested: boolean },
  ): Promise<void> {
    const at = snap.at.toISOString();
    await writer.write({ seq: 1, at, user: '', table: '', id: '', op: 'confirm', upTo: snap.applied ?? 0 });
    const atJson = JSON.stringify(at);
    const fetchPage = async (): Promise<ExtractRowText[]> =>
      (
        await conn.query<ExtractRowText>({
          text: `FETCH ${this.pageSize} FROM outpost_extract`,
          rowMode: 'array',
          types: RAW_TEXT,
        })
      ).rows;
    let seq = 1;
    for (const table of this.tables) {
      await conn.query(`DECLARE outpost_extract NO SCROLL CURSOR FOR ${table.cursorSql}`, [client.userLogin]);
      let next = fetchPage();
      for (;;) {
        const page = await next;
        const more = page.length === this.pageSize && !stop.requested;
        if (more) {
          next = fetchPage();
          // Awaited on the next turn; a failure before that must not count as unhandled.
          next.catch(() => undefined);
        }
        for (const row of page) {
          seq += 1;
          await writer.writeEncoded(seq, table.rows.line(seq, atJson, row));
        }
        if (!more) break;
      }
      if (stop.requested) throw new Error('extract stopped: its write transaction failed');
      await conn.query('CLOSE outpost_extract');
    }
  }

  /**
   * Holdings, route state and the file registration in one transaction on the extract's snapshot;
   * the holdings are written while `stored` (the file's upload) is still under way.
   */
  private async commit(
    client: RouteClient,
    snap: Snapshot,
    epoch: number,
    phases: { holdings: number },
    stored: () => Promise<Omit<OutboundFileRecord, 'client' | 'epoch' | 'kind'>>,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`SET TRANSACTION SNAPSHOT '${snap.snapshot.replace(/'/g, "''")}'`);
      await tx.query('DELETE FROM sync_route_holding WHERE client = $1', [client.name]);
      const holdingsStarted = Date.now();
      for (const table of this.tables) await tx.query(table.holdSql, [client.userLogin, client.name]);
      phases.holdings = Date.now() - holdingsStarted;
      const file = await stored();
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
