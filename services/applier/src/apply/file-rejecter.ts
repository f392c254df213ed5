import type { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import { DxFormatError, DxReader } from '@outpost/dx-format';
import type { RefusalCode } from '@outpost/contracts';
import type { Schema } from '@outpost/schema';
import { emitCaptureMessage } from './capture-message';
import type { ApplyPosition, InboxFile } from './file-applier';

/** A file skipped whole, with what the inbox row knows of it. */
export interface RejectedFile extends InboxFile {
  /** The last client transaction seq the file carries (from its inbox row). */
  lastSeq: number;
}

/**
 * Why the file is skipped: `rejected` by an administrator (a quarantined file), or `refused` by
 * the server (it names another user). Every change read from it is recorded as refused with `code`.
 */
export interface Skip {
  status: 'rejected' | 'refused';
  code: RefusalCode;
  reason: string;
}

export interface FileRejectResult {
  /** Rows the file touched, each echoed back to the laptop with the server's state. */
  echoes: number;
  /** False when the file could not be read to its end: only the rows read before that are echoed. */
  readable: boolean;
}

/** Echo rows are written this many at a time, so a huge rejected file is never held in memory. */
const ECHO_BATCH = 5_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Touched {
  table: string;
  id: string;
  seq: number;
  op: string;
}

/**
 * Skips a file inside the caller's open transaction, as if it had been applied with every change
 * lost: the client's position moves past it (its transaction seqs too), a confirm (a capture
 * message, as for an applied file) lets the laptop drop those changes from its log, and an echo
 * for every row the file touched makes the router send the laptop the server's row (or a delete
 * where the server has none), so the laptop converges to the server's state. The file's changes
 * stay on record: its row says `rejected` or `refused` with the reason, each change it carried is in
 * sync_refusal, and the object is kept.
 */
export class FileRejecter {
  private readonly tables: Map<string, string>;

  constructor(schema: Schema) {
    this.tables = new Map(schema.tables.map((t) => [t.name, `"${t.name.replace(/"/g, '""')}"`]));
  }

  async reject(
    db: PoolClient,
    file: RejectedFile,
    position: ApplyPosition,
    input: Readable | null,
    skip: Skip,
  ): Promise<FileRejectResult> {
    const txnSeq = Math.max(position.txnSeq, file.lastSeq);
    await emitCaptureMessage(db, { kind: 'confirm', client: file.client, upTo: txnSeq });
    let echoes = 0;
    let readable = true;
    let batch = new Map<string, Touched>();
    let refused: Touched[] = [];
    const flush = async () => {
      echoes += await this.writeEchoes(db, file, txnSeq, [...batch.values()]);
      await this.recordRefusals(db, file, skip, refused);
      batch = new Map();
      refused = [];
    };
    if (input === null) readable = false;
    else {
      try {
        for await (const tx of DxReader.open(input)) {
          const touched = { table: String(tx.table), id: String(tx.id), seq: tx.seq, op: String(tx.op) };
          refused.push(touched);
          if (this.tables.has(tx.table) && UUID.test(tx.id)) batch.set(`${tx.table}\u0000${tx.id}`, touched);
          if (refused.length >= ECHO_BATCH) await flush();
        }
      } catch (err) {
        // A broken file is a usual reason to reject one: echo what could be read and skip the rest.
        // Anything else (storage or database gone) is transient: the rejection is retried whole.
        if (!(err instanceof DxFormatError)) throw err;
        readable = false;
      }
    }
    await flush();
    await db.query(
      `WITH position AS (
         UPDATE sync_apply_position SET file_seq = $2, txn_seq = $3, updated_at = now() WHERE client = $1)
       UPDATE sync_inbox_file SET status = $4, applied_at = now(),
                                  reason = coalesce(reason || '; ', '') || $5
        WHERE client = $1 AND file_seq = $2`,
      [file.client, file.fileSeq, txnSeq, skip.status, `${skip.code}: ${skip.reason}`],
    );
    return { echoes, readable };
  }

  private async recordRefusals(
    db: PoolClient,
    file: RejectedFile,
    skip: Skip,
    rows: Touched[],
  ): Promise<void> {
    if (rows.length === 0) return;
    await db.query(
      `INSERT INTO sync_refusal (client, user_login, file_seq, txn_seq, table_name, row_id, op, code, reason)
       SELECT $1, $2, $3, s, t, r, o, $7, $8 FROM unnest($4::bigint[], $5::text[], $6::text[], $9::text[]) AS x(s, t, r, o)`,
      [
        file.client,
        file.user,
        file.fileSeq,
        rows.map((r) => r.seq),
        rows.map((r) => r.table),
        rows.map((r) => r.id),
        skip.code,
        skip.reason,
        rows.map((r) => r.op),
      ],
    );
  }

  private async writeEchoes(
    db: PoolClient,
    file: RejectedFile,
    txnSeq: number,
    rows: Touched[],
  ): Promise<number> {
    if (rows.length === 0) return 0;
    const present = new Set<string>();
    for (const [name, quoted] of this.tables) {
      const ids = rows.filter((r) => r.table === name).map((r) => r.id);
      if (ids.length === 0) continue;
      const res = await db.query<{ id: string }>(
        `SELECT id::text AS id FROM ${quoted} WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      for (const r of res.rows) present.add(`${name}\u0000${r.id}`);
    }
    await emitCaptureMessage(db, {
      kind: 'echo',
      client: file.client,
      upTo: txnSeq,
      rows: rows.map((r) => ({
        table: r.table,
        id: r.id,
        op: present.has(`${r.table}\u0000${r.id}`) ? 'update' : 'delete',
        user: file.user,
      })),
    });
    return rows.length;
  }
}
