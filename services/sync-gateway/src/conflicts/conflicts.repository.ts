import { Injectable } from '@nestjs/common';
import type { ConflictView } from '@outpost/contracts';
import { DataSource } from 'typeorm';

/** The newest conflicts first, capped so one noisy client cannot make a response unbounded. */
const MAX_ROWS = 1000;

/** Reads the applier's sync_conflict; the gateway never writes it. */
@Injectable()
export class ConflictsRepository {
  constructor(private readonly db: DataSource) {}

  async list(clientOrigin?: string): Promise<ConflictView[]> {
    const where = clientOrigin === undefined ? '' : 'WHERE client_origin = $1';
    const params = clientOrigin === undefined ? [] : [clientOrigin];
    const rows: ConflictRow[] = await this.db.query(
      `SELECT id, at, kind, table_name, row_id, column_name, server_value, client_value, server_origin,
              client_origin, server_at, client_at, policy, winner
       FROM sync_conflict ${where} ORDER BY at DESC, id LIMIT ${MAX_ROWS}`,
      params,
    );
    return rows.map(toView);
  }
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
    policy: r.policy,
    winner: r.winner,
  };
}
