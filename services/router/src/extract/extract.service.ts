import { Inject, Injectable } from '@nestjs/common';
import type { DxWriter } from '@outpost/dx-format';
import type { Schema, VisibilityPlan } from '@outpost/schema';
import type { PoolClient } from 'pg';
import type { RouterConfig } from '../config/router.config';
import { RouterDatabase } from '../database/router-database';
import { OutboxWriter } from '../outbox/outbox-writer';
import { ROUTER_CONFIG, SYNC_SCHEMA, VISIBILITY } from '../router.tokens';
import { insertFiles, type RouteClient } from '../routing/route.repository';
import { ExtractRows, type ExtractRowText } from './extract-rows';

export interface ExtractResult {
  epoch: number;
  rows: number;
  /** Log seq of the snapshot: routing resumes after it. */
  snapshotSeq: number;
  bytes: number;
  /** Where the time went, in ms: the holdings (which decide the rows), then writing and storing the file. */
  phases: { holdings: number; file: number };
}

interface Snapshot {
  at: Date;
  max_seq: number;
  applied: number | null;
}

/** Extract rows come as Postgres's text output, in arrays: no type parsing, no row objects. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

interface ExtractTable {
  name: string;
  rows: ExtractRows;
  holdSql: string;
  cursorSql: string;
}

/**
 * Database Extract: one snapshot of everything the client's user sees, in one `extract` DX file.
 * Everything happens in one REPEATABLE READ transaction: the visibility rules are evaluated once,
 * into the client's holdings, whose row counts make the file's header; the rows are then streamed
 * table by table (foreign-key order) through a server-side cursor that reads them through those
 * holdings. The holdings are therefore exactly the extracted rows, and routing resumes after the
 * snapshot's last log seq: nothing missed, nothing twice. The transaction commits (holdings, route
 * state, file registration) only once the file is stored.
 */
@Injectable()
export class ExtractService {
  private readonly tables: ExtractTable[];
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
      const rows = new ExtractRows(table);
      const name = table.name.replace(/'/g, "''");
      return {
        name: table.name,
        rows,
        // Both in id order: the holdings' indexes and the laptop's primary-key index then fill in
        // order instead of at random pages, which costs less than the sort.
        holdSql: `INSERT INTO sync_route_holding (client, table_name, row_id, version)
         SELECT $2::text, '${name}', t.id, t.row_version FROM "${table.name}" t
          WHERE t.id IN (${visibility.inverseIdsSql(table.name)}) ORDER BY t.id`,
        cursorSql: `SELECT ${rows.selectList} FROM "${table.name}" t
          JOIN sync_route_holding h ON h.client = $1 AND h.table_name = '${name}' AND h.row_id = t.id
          ORDER BY t.id`,
      };
    });
  }

  /** Whether the client needs a (re)extract before anything else is routed to it. */
  static pending(client: RouteClient): boolean {
    if (client.state === null) return true;
    return client.extractRequestedAt !== null && client.extractRequestedAt > client.state.extractedAt;
  }

  async extract(client: RouteClient): Promise<ExtractResult> {
    const epoch = (client.state?.epoch ?? 0) + 1;
    return this.db.transaction(async (tx) => {
      const [snap] = await tx.query<Snapshot>(
        `SELECT now() AS at, (SELECT coalesce(max(seq), 0) FROM sync_txn_log) AS max_seq,
                (SELECT txn_seq FROM sync_apply_position WHERE client = $1) AS applied`,
        [client.name],
      );
      const holdingsStarted = Date.now();
      await tx.query('DELETE FROM sync_route_holding WHERE client = $1', [client.name]);
      let rows = 0;
      for (const table of this.tables)
        rows += (await tx.client.query(table.holdSql, [client.userLogin, client.name])).rowCount ?? 0;
      const phases = { holdings: Date.now() - holdingsStarted, file: 0 };
      const spec = {
        client: client.name,
        epoch,
        fileSeq: 1,
        kind: 'extract' as const,
        firstSeq: 1,
        lastSeq: rows + 1,
        count: rows + 1,
      };
      const fileStarted = Date.now();
      const written = await this.outbox.writeWith(spec, (writer) =>
        this.fill(writer, tx.client, client, snap),
      );
      phases.file = Date.now() - fileStarted;
      await tx.query(
        `INSERT INTO sync_route_state (client, epoch, from_seq, next_file_seq, extracted_at, schema_version)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (client) DO UPDATE SET epoch = EXCLUDED.epoch, from_seq = EXCLUDED.from_seq,
           next_file_seq = EXCLUDED.next_file_seq, extracted_at = EXCLUDED.extracted_at,
           schema_version = EXCLUDED.schema_version,
           failures = 0, retry_at = NULL, last_error = NULL, updated_at = now()`,
        [client.name, epoch, snap.max_seq, spec.fileSeq + 1, snap.at, this.schema.version],
      );
      await tx.query(
        `UPDATE sync_outbound_file SET obsolete_at = now()
          WHERE client = $1 AND epoch < $2 AND acked_at IS NULL AND obsolete_at IS NULL`,
        [client.name, epoch],
      );
      await insertFiles(tx, [{ ...spec, ...written, txnCount: rows + 1 }]);
      return { epoch, rows, snapshotSeq: snap.max_seq, bytes: written.size, phases };
    }, 'BEGIN ISOLATION LEVEL REPEATABLE READ');
  }

  /**
   * The extract's transactions: a confirm of what the server has applied from the client, then every
   * row it holds. The next page is fetched while the current one is encoded.
   */
  private async fill(writer: DxWriter, conn: PoolClient, client: RouteClient, snap: Snapshot): Promise<void> {
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
      await conn.query(`DECLARE outpost_extract NO SCROLL CURSOR FOR ${table.cursorSql}`, [client.name]);
      let next = fetchPage();
      for (;;) {
        const page = await next;
        const more = page.length === this.pageSize;
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
      await conn.query('CLOSE outpost_extract');
    }
  }
}
