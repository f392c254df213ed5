import { Injectable } from '@nestjs/common';
import type { ConflictView } from '@outpost/contracts';
import { DataSource } from 'typeorm';
import { ClientVisibility, rowRef } from './client-visibility';

/** The newest conflicts first, capped so one noisy client cannot make a response unbounded. */
const MAX_ROWS = 1000;

/** Reads the applier's sync_conflict; the gateway never writes it. */
@Injectable()
export class ConflictsRepository {
  constructor(
    private readonly db: DataSource,
    private readonly visibility: ClientVisibility,
  ) {}

  /** Every conflict, or one client's, with every value: for the administrator. */
  async list(clientOrigin?: string): Promise<ConflictView[]> {
    const where = clientOrigin === undefined ? '' : 'WHERE client_origin = $1';
    const params = clientOrigin === undefined ? [] : [clientOrigin];
    const rows: ConflictRow[] = await this.db.query(
      `SELECT id, at, kind, table_name, row_id, column_name, server_value, client_value, server_origin,
              client_origin, server_at, client_at, client_at_clamped, policy, winner
       FROM sync_conflict ${where} ORDER BY at DESC, id LIMIT ${MAX_ROWS}`,
      params,
    );
    return rows.map(toView);
  }

  /**
   * A client's own conflicts as its laptop may see them: only rows its user sees now, and for a
   * duplicate key, the id of the row holding the key only when that row is visible too (the key's
   * values are the laptop's own). A laptop cannot learn ids or values of rows it cannot see by
   * provoking conflicts.
   */
  async listForClient(client: string): Promise<ConflictView[]> {
    const all = await this.list(client);
    const refs = all.flatMap((c) => {
      const holder = holderId(c);
      return holder
        ? [
            { table: c.table, id: c.rowId },
            { table: c.table, id: holder },
          ]
        : [{ table: c.table, id: c.rowId }];
    });
    const seen = await this.visibility.visibleRows(client, refs);
    return all
      .filter((c) => seen.has(rowRef(c.table, c.rowId)))
      .map((c) => {
        const holder = holderId(c);
        if (!holder || seen.has(rowRef(c.table, holder))) return c;
        return { ...c, serverValue: { ...(c.serverValue as object), id: null }, serverOrigin: null };
      });
  }
}

function holderId(c: ConflictView): string | null {
  if (c.kind !== 'duplicate-key' || typeof c.serverValue !== 'object' || c.serverValue === null) return null;
  const id = (c.serverValue as { id?: unknown }).id;
  return typeof id === 'string' ? id : null;
}

interface ConflictRow {
  id: string;
  at: Date;
  kind: ConflictView['kind'];
  table_name: string;
  row_id: string;
  column_name: string | null;
  server_value: unknown;
  client_value: unknown;
  server_origin: string | null;
  client_origin: string;
  server_at: Date | null;
  client_at: Date;
  client_at_clamped: Date | null;
  policy: string;
  winner: ConflictView['winner'];
}

function iso(d: Date | string | null): string | null {
  if (d === null) return null;
  return d instanceof Date ? d.toISOString() : d;
}

function toView(r: ConflictRow): ConflictView {
  return {
    id: String(r.id),
    at: iso(r.at) ?? '',
    kind: r.kind,
    table: r.table_name,
    rowId: r.row_id,
    column: r.column_name,
    serverValue: r.server_value,
    clientValue: r.client_value,
    serverOrigin: r.server_origin,
    clientOrigin: r.client_origin,
    serverAt: iso(r.server_at),
    clientAt: iso(r.client_at) ?? '',
    clientAtClamped: iso(r.client_at_clamped),
    policy: r.policy,
    winner: r.winner,
  };
}
