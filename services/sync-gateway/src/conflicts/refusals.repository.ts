import { Injectable } from '@nestjs/common';
import type { RefusalCode, RefusalView } from '@outpost/contracts';
import { DataSource } from 'typeorm';

/** The newest refusals first, capped like conflicts. */
const MAX_ROWS = 1000;

/**
 * Reads the applier's sync_refusal. A refusal names only what the client itself sent (its table,
 * row id, operation) and a reason written not to reveal whether a row it cannot see exists, so the
 * client sees its own refusals as they are.
 */
@Injectable()
export class RefusalsRepository {
  constructor(private readonly db: DataSource) {}

  async list(client?: string): Promise<RefusalView[]> {
    const where = client === undefined ? '' : 'WHERE client = $1';
    const rows: RefusalRow[] = await this.db.query(
      `SELECT id, at, client, user_login, file_seq, txn_seq, table_name, row_id, op, code, reason
         FROM sync_refusal ${where} ORDER BY at DESC, txn_seq DESC LIMIT ${MAX_ROWS}`,
      client === undefined ? [] : [client],
    );
    return rows.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      client: r.client,
      userLogin: r.user_login,
      fileSeq: r.file_seq,
      txnSeq: Number(r.txn_seq),
      table: r.table_name,
      rowId: r.row_id,
      op: r.op,
      code: r.code,
      reason: r.reason,
    }));
  }
}

interface RefusalRow {
  id: string;
  at: Date;
  client: string;
  user_login: string;
  file_seq: number;
  txn_seq: string;
  table_name: string;
  row_id: string;
  op: string;
  code: RefusalCode;
  reason: string;
}
