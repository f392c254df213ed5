import { Injectable } from '@nestjs/common';
import type { AuthAuditView } from '@outpost/contracts';
import { DataSource } from 'typeorm';

const MAX_ROWS = 1000;
/** A name is whatever the caller typed: kept, but never more than a name could be. */
const MAX_NAME_CHARS = 128;

export interface AuthAuditRecord {
  clientName: string;
  sourceAddress: string;
  outcome: AuthAuditView['outcome'];
  code: string;
}

/** sync_auth_audit: failed and refused session opens, for the administrator. */
@Injectable()
export class AuthAuditRepository {
  constructor(private readonly db: DataSource) {}

  async record(r: AuthAuditRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO sync_auth_audit (client_name, source_address, outcome, code) VALUES ($1, $2, $3, $4)`,
      [r.clientName.slice(0, MAX_NAME_CHARS), r.sourceAddress, r.outcome, r.code],
    );
  }

  async list(client?: string): Promise<AuthAuditView[]> {
    const where = client === undefined ? '' : 'WHERE client_name = $1';
    const rows: AuditRow[] = await this.db.query(
      `SELECT id, at, client_name, source_address, outcome, code
         FROM sync_auth_audit ${where} ORDER BY at DESC, id DESC LIMIT ${MAX_ROWS}`,
      client === undefined ? [] : [client],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      at: r.at.toISOString(),
      clientName: r.client_name,
      sourceAddress: r.source_address,
      outcome: r.outcome,
      code: r.code,
    }));
  }
}

interface AuditRow {
  id: string;
  at: Date;
  client_name: string;
  source_address: string;
  outcome: AuthAuditView['outcome'];
  code: string;
}
