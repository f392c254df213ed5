import type { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import { DxFormatError, DxReader } from '@outpost/dx-format';
import type { Schema } from '@outpost/schema';
import { emitCaptureMessage } from './capture-message';
import type { ApplyPosition, InboxFile } from './file-applier';

/** A quarantined file an administrator chose to skip, with what the inbox row knows of it. */
export interface RejectedFile extends InboxFile {
  /** The last client transaction seq the file carries (from its inbox row). */
  lastSeq: number;
  /** The administrator's reason. */
  rejection: string;
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
  user: string;
}

/**
 * Skips a file inside the caller's open transaction, as if it had been applied with every change
 * lost: the client's position moves past it (its transaction seqs too), a confirm (a capture
 * message, as for an applied file) lets the laptop drop those changes from its log, and an echo
 * for every row the file touched makes the router send the laptop the server's row (or a delete
 * where the server has none), so the laptop converges to the server's state. The file's changes stay on record: its row says `rejected`, with
 * the quarantine reason and the administrator's, and its object stays under quarantine/.
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
  ): Promise<FileRejectResult> {
    const txnSeq = Math.max(position.txnSeq, file.lastSeq);
    await emitCaptureMessage(db, { kind: 'confirm', client: file.client, upTo: txnSeq });
    let echoes = 0;
    let readable = true;
    let batch = new Map<string, Touched>();
    const flush = async () => {
      echoes += await this.writeEchoes(db, file.client, txnSeq, [...batch.values()]);
      batch = new Map();
    };
    if (input === null) readable = false;
    else {
      try {
        for await (const tx of DxReader.open(input)) {
          if (!this.tables.has(tx.table) || !UUID.test(tx.id)) continue;
          batch.set(`${tx.table}\u0000${tx.id}`, { table: tx.table, id: tx.id, user: tx.user });
          if (batch.size >= ECHO_BATCH) await flush();
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
       UPDATE sync_inbox_file SET status = 'rejected', applied_at = now() WHERE client = $1 AND file_seq = $2`,
      [file.client, file.fileSeq, txnSeq],
    );
    return { echoes, readable };
  }

  private async writeEchoes(
    db: PoolClient,
    client: string,
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
      client,
      upTo: txnSeq,
      rows: rows.map((r) => ({
        table: r.table,
        id: r.id,
        op: present.has(`${r.table}\u0000${r.id}`) ? 'update' : 'delete',
        user: r.user,
      })),
    });
    return rows.length;
  }
}
