import { Injectable } from '@nestjs/common';
import type { ClientInboxFile, ClientInboxResponse } from '@outpost/contracts';
import { DataSource } from 'typeorm';

/** Rejected files told to the laptop: the newest ones, so the answer stays small. */
const REJECTED_SHOWN = 20;

/** Reads what the server holds of one client's uploads (sync_inbox_file, sync_apply_position). */
@Injectable()
export class InboxStateRepository {
  constructor(private readonly db: DataSource) {}

  async forClient(client: string): Promise<ClientInboxResponse> {
    const [position] = (await this.db.query(
      `SELECT coalesce(max(p.file_seq), 0)::int AS "fileSeq", coalesce(max(p.txn_seq), 0)::int AS "txnSeq",
              (SELECT coalesce(max(last_seq), 0)::int FROM sync_inbox_file WHERE client = $1) AS "lastTxnSeq"
         FROM sync_apply_position p WHERE p.client = $1`,
      [client],
    )) as Array<{ fileSeq: number; txnSeq: number; lastTxnSeq: number }>;
    const files = (await this.db.query(
      `(SELECT file_seq::int AS "fileSeq", status, reason, rejection, attempts::int AS attempts, last_error AS "lastError"
          FROM sync_inbox_file WHERE client = $1 AND status IN ('received', 'quarantined'))
       UNION ALL
       (SELECT file_seq::int, status, reason, rejection, attempts::int, last_error
          FROM sync_inbox_file WHERE client = $1 AND status = 'rejected' ORDER BY file_seq DESC LIMIT ${REJECTED_SHOWN})
       ORDER BY "fileSeq"`,
      [client],
    )) as ClientInboxFile[];
    return {
      appliedFileSeq: position?.fileSeq ?? 0,
      appliedTxnSeq: position?.txnSeq ?? 0,
      lastUploadedTxnSeq: position?.lastTxnSeq ?? 0,
      files,
    };
  }
}
