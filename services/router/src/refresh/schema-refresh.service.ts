import { Inject, Injectable } from '@nestjs/common';
import { tablesToRefresh, type SchemaSelection, type VisibilityPlan } from '@outpost/schema';
import type { RouterConfig } from '../config/router.config';
import { RouterDatabase } from '../database/router-database';
import { OutboxWriter } from '../outbox/outbox-writer';
import { ROUTER_CONFIG, SCHEMA_SELECTION, VISIBILITY } from '../router.tokens';
import { deliverPlan } from '../routing/delivery';
import type { ClientPlan } from '../routing/route-batch';
import type { OutboundOp } from '../routing/route-plan';
import { rowBytesSql } from '../routing/row-json';
import { readSnapshot, RouteRepository, type RouteClient } from '../routing/route.repository';

export interface RefreshResult {
  tables: string[];
  rows: number;
  evicted: number;
}

/**
 * The partial re-extract after a schema upgrade: a client routed under an older version receives,
 * as an ordinary `changes` file in its current epoch, every row it sees now of the tables the
 * upgrade added or gave new columns (every table, when a visibility rule changed), and an evict for
 * each row of those tables it holds but no longer sees. Nothing is replaced on the laptop, unsent
 * changes are rebased on the rows as usual, and routing continues from the client's position:
 * rows changed after the snapshot come again through the log. Repeating it is harmless (upserts).
 */
@Injectable()
export class SchemaRefreshService {
  private readonly rowsSql = new Map<string, string>();
  private readonly maxFileTxns: number;
  private readonly fetchBytes: number;

  constructor(
    private readonly db: RouterDatabase,
    @Inject(SCHEMA_SELECTION) private readonly selection: SchemaSelection,
    @Inject(VISIBILITY) private readonly visibility: VisibilityPlan,
    private readonly repo: RouteRepository,
    private readonly outbox: OutboxWriter,
    @Inject(ROUTER_CONFIG) config: RouterConfig,
  ) {
    this.maxFileTxns = config.maxFileTxns;
    this.fetchBytes = config.fetchBytes;
    for (const table of selection.schema.tables) {
      this.rowsSql.set(
        table.name,
        `SELECT t.id::text AS id, t.row_version AS version, ${rowBytesSql(table, 't')} AS bytes FROM "${table.name}" t ` +
          `WHERE t.id IN (${visibility.inverseIdsSql(table.name)})`,
      );
    }
  }

  get version(): number {
    return this.selection.version;
  }

  /** Whether the client was last routed under an older version than the server runs. */
  behind(client: RouteClient): boolean {
    return client.state !== null && client.state.schemaVersion < this.selection.version;
  }

  async refresh(client: RouteClient): Promise<RefreshResult> {
    const state = client.state;
    if (!state) throw new Error(`client ${client.name} has no route state; it must be extracted first`);
    const { history, schema, version } = this.selection;
    const tables = tablesToRefresh(schema, history.stepsBetween(state.schemaVersion, version));
    const result: RefreshResult = { tables, rows: 0, evicted: 0 };
    if (tables.length > 0) {
      // The rows are read while the file is written, from the snapshot the ids were chosen on.
      await readSnapshot(this.db, async (q) => {
        const at = new Date().toISOString();
        const cause = { seq: state.fromSeq, at, user: '' };
        const ops: OutboundOp[] = [];
        const p: ClientPlan = {
          target: {
            name: client.name,
            fromSeq: state.fromSeq,
            epoch: state.epoch,
            nextFileSeq: state.nextFileSeq,
          },
          confirm: null,
          ops,
          hold: [],
          release: [],
        };
        for (const table of tables) {
          const rows = await q.query<{ id: string; version: number; bytes: number }>(
            this.rowsSql.get(table) as string,
            [client.userLogin],
          );
          const held = await q.query<{ id: string }>(
            'SELECT row_id::text AS id FROM sync_route_holding WHERE client = $1 AND table_name = $2',
            [client.name, table],
          );
          const visible = new Set(rows.map((r) => r.id));
          for (const r of rows) {
            ops.push({ op: 'upsert', table, id: r.id, version: r.version, bytes: r.bytes, cause });
            p.hold.push({ table, id: r.id, version: r.version });
          }
          for (const { id } of held) {
            if (visible.has(id)) continue;
            ops.push({ op: 'evict', table, id, cause });
            p.release.push({ table, id });
            result.evicted += 1;
          }
          result.rows += rows.length;
        }
        const last = await this.repo.lastDownloadSeqs([{ name: client.name, epoch: state.epoch }]);
        await deliverPlan({
          plan: p,
          upToSeq: state.fromSeq,
          lastDownloadSeq: last.get(client.name) ?? 0,
          tableOrder: this.visibility.tableOrder,
          maxFileTxns: this.maxFileTxns,
          fetchBytes: this.fetchBytes,
          rows: (table, ids) => this.repo.currentRows(q, table, ids),
          outbox: this.outbox,
          repo: this.repo,
        });
      });
    }
    await this.repo.setSchemaVersion(client.name, version);
    return result;
  }
}
