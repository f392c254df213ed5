import type { Logger } from '@nestjs/common';
import type { Pgoutput } from 'pg-logical-replication';
import { CAPTURE_PROBE_PREFIX } from '@outpost/schema';
import { captureMetrics } from '@outpost/server-kit';
import type { CaptureRepository } from './capture.repository';
import type { ChangeDecoder, CapturedRow, TxnContext } from './change-decoder';
import { lsnText, lsnValue } from './lsn';

interface OpenTxn {
  ctx: TxnContext;
  finalLsn: string;
  /** Committed before the stored position: already in the log. */
  skip: boolean;
  /** Rows of this transaction a partial write already logged, still to be passed over. */
  skipRows: number;
  /** Rows of this transaction in the log so far (partial writes). */
  written: number;
  rows: CapturedRow[];
  /** What `rows` hold in memory, roughly. */
  bytes: number;
}

/** Where one stream starts: the stored capture position. */
export interface BatchStart {
  lsn: string;
  /** A transaction logged in part before a restart: its first rows are passed over once. */
  partial: { lsn: string; rows: number } | null;
}

export interface BatchLimits {
  rows: number;
  bytes: number;
}

/**
 * The log rows of one replication stream, from decoded messages to batched writes: transactions
 * are gathered whole (a larger one in parts), written with the position they reach, and the
 * position is acknowledged to the stream only after that commit. One per stream; the service
 * owns the stream, its queue and its lifecycle.
 */
export class CaptureBatch {
  private position: bigint;
  private partialInLog: boolean;
  private partial: BatchStart['partial'];
  private txn: OpenTxn | null = null;
  private pending: CapturedRow[] = [];
  private pendingBytes = 0;
  private pendingLsn: string | null = null;

  constructor(
    private readonly repo: CaptureRepository,
    private readonly decoder: ChangeDecoder,
    private readonly limits: BatchLimits,
    start: BatchStart,
    /** Acknowledges a position to the stream. */
    private readonly ack: (lsn: string) => void,
    /** Called after every write that added log rows. */
    private readonly captured: () => void,
    private readonly logger: Logger,
  ) {
    this.position = lsnValue(start.lsn);
    this.partial = start.partial;
    this.partialInLog = start.partial !== null;
  }

  /** Whole transactions are held and none is open: what a short gather may add to before writing. */
  get waitingToWrite(): boolean {
    return this.txn === null && this.pendingLsn !== null;
  }

  /** What a stalled capture holds, for its warning. */
  describe(): string {
    return `transaction ${this.txn ? 'open' : 'none'}, ${this.pending.length} pending rows, partial ${this.partialInLog}`;
  }

  async handle(msg: Pgoutput.Message): Promise<void> {
    switch (msg.tag) {
      case 'begin':
        return this.begin(msg);
      case 'insert':
      case 'update':
      case 'delete':
        if (this.txn && !this.txn.skip) await this.add([this.decoder.change(this.txn.ctx, msg)]);
        return;
      case 'message':
        if (!msg.transactional) {
          if (msg.prefix === CAPTURE_PROBE_PREFIX && msg.messageLsn) await this.probe(msg.messageLsn);
          return;
        }
        if (this.txn && !this.txn.skip) await this.add(this.decoder.message(this.txn.ctx, msg));
        return;
      case 'commit':
        return this.commit(msg);
      case 'truncate':
        this.logger.warn(
          `TRUNCATE of ${msg.relations.map((r) => r.name).join(', ')} is not routed; re-extract the clients`,
        );
        return;
      case 'relation':
      case 'type':
      case 'origin':
        return;
    }
  }

  /**
   * Keepalives carry the position the server has sent up to. With nothing held in memory every
   * change before it is in the log, so the slot may move there (its WAL can be recycled).
   */
  heartbeat(lsn: string): void {
    const idle = this.txn === null && this.pending.length === 0 && !this.partialInLog;
    this.acknowledge(idle ? lsn : null);
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0 && !this.partialInLog) {
      this.acknowledge(this.pendingLsn);
      this.pendingLsn = null;
      return;
    }
    const rows = this.pending;
    await this.repo.write(rows, this.pendingLsn, null);
    captureMetrics.writes.inc({ kind: 'whole' });
    this.acknowledge(this.pendingLsn);
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingLsn = null;
    this.partialInLog = false;
    if (rows.length > 0) this.captured();
  }

  private begin(msg: Pgoutput.MessageBegin): void {
    const finalLsn = msg.commitLsn ?? '0/0';
    // Compared as positions: Postgres prints "0/16B3748", the stream reader "00000000/016B3748".
    const skipRows =
      this.partial && lsnValue(this.partial.lsn) === lsnValue(finalLsn) ? this.partial.rows : 0;
    this.txn = {
      ctx: this.decoder.begin(msg),
      finalLsn,
      skip: lsnValue(finalLsn) < this.position,
      skipRows,
      written: skipRows,
      rows: [],
      bytes: 0,
    };
  }

  private async add(rows: Array<CapturedRow | null>): Promise<void> {
    const txn = this.txn as OpenTxn;
    for (const row of rows) {
      if (!row) continue;
      if (txn.skipRows > 0) {
        txn.skipRows -= 1;
        continue;
      }
      txn.rows.push(row);
      txn.bytes += row.bytes;
    }
    if (this.full(txn.rows.length, txn.bytes)) await this.writePartial(txn);
  }

  /** A batch is written once it holds CAPTURE_BATCH_ROWS rows or CAPTURE_BATCH_BYTES of them. */
  private full(moreRows = 0, moreBytes = 0): boolean {
    return (
      this.pending.length + moreRows >= this.limits.rows || this.pendingBytes + moreBytes >= this.limits.bytes
    );
  }

  private async commit(msg: Pgoutput.MessageCommit): Promise<void> {
    const txn = this.txn;
    this.txn = null;
    if (!txn || txn.skip) return;
    for (const row of txn.rows) this.pending.push(row);
    this.pendingBytes += txn.bytes;
    this.pendingLsn = msg.commitEndLsn;
    this.partial = null;
    if (this.full()) await this.flush();
  }

  /** A transaction larger than a batch: its rows so far go in, with how many of it are logged. */
  private async writePartial(txn: OpenTxn): Promise<void> {
    const rows = [...this.pending, ...txn.rows];
    const partial = { lsn: txn.finalLsn, rows: txn.written + txn.rows.length };
    await this.repo.write(rows, this.pendingLsn, partial);
    captureMetrics.writes.inc({ kind: 'partial' });
    this.acknowledge(this.pendingLsn);
    txn.written = partial.rows;
    txn.rows = [];
    txn.bytes = 0;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingLsn = null;
    this.partialInLog = true;
    this.captured();
  }

  /** Everything committed before the probe is in the stream before it: make it durable, say so. */
  private async probe(lsn: string): Promise<void> {
    await this.flush();
    await this.repo.write([], lsn, null);
    this.acknowledge(lsn);
  }

  private acknowledge(lsn: string | null): void {
    if (lsn !== null && lsnValue(lsn) > this.position) this.position = lsnValue(lsn);
    if (this.position > 0n) this.ack(lsnText(this.position));
  }
}
