import { Inject, Injectable, Logger } from '@nestjs/common';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { CAPTURE_PUBLICATION, defaultCaptureSlot } from '@outpost/schema';
import { captureMetrics } from '@outpost/server-kit';
import type { RouterConfig } from '../config/router.config';
import { RouterDatabase } from '../database/router-database';
import { ROUTER_CONFIG } from '../router.tokens';
import { CaptureBatch } from './capture-batch';
import { CaptureRepository } from './capture.repository';
import { ChangeDecoder } from './change-decoder';
import { keepText, wireBytes } from './stream-parse';

type Item = { kind: 'data'; msg: Pgoutput.Message; bytes: number } | { kind: 'heartbeat'; lsn: string };

/**
 * Decoded messages held while a batch is written: the socket is paused above this many, or this
 * many bytes of their values (a few rows of tens of MiB must not be held by the hundred), and
 * resumed below the low marks.
 */
const QUEUE_HIGH = 500;
const QUEUE_LOW = 50;
const QUEUE_HIGH_BYTES = 16 * 1024 * 1024;
const QUEUE_LOW_BYTES = 4 * 1024 * 1024;
const RETRY_BASE_MS = 500;
/** A capture holding work that has handled nothing for this long is stalled: the keepalive says so. */
const STALL_WARN_MS = 10_000;
const RETRY_MAX_MS = 30_000;

/**
 * The one consumer of the capture slot (it runs only in the router that holds the leader lock).
 * It writes sync_txn_log rows itself, in stream order (= commit order), batched, in one
 * transaction with the position they reach; the slot is acknowledged only after that commit. On a
 * restart it skips transactions the position covers, so nothing is lost and nothing is logged
 * twice. As the only writer of the log, it makes seq order commit order without any lock.
 */
@Injectable()
export class CaptureService {
  private readonly logger = new Logger('Capture');
  readonly slotName: string;
  private stream: LogicalReplicationService | null = null;
  private queue: Item[] = [];
  private queuedBytes = 0;
  private draining: Promise<void> | null = null;
  private paused = false;
  private failures = 0;
  private retryAt = 0;
  /** The log rows of the current stream. */
  private batch: CaptureBatch | null = null;
  private readonly listeners: Array<() => void> = [];
  /** When the drain last finished an item, and when a keepalive last warned of a stall. */
  private lastProgressAt = Date.now();
  private lastStallWarnAt = 0;

  constructor(
    private readonly repo: CaptureRepository,
    private readonly decoder: ChangeDecoder,
    @Inject(ROUTER_CONFIG) private readonly config: RouterConfig,
    db: RouterDatabase,
  ) {
    const database = decodeURIComponent(new URL(config.databaseUrl).pathname.replace(/^\//, ''));
    this.slotName = config.captureSlot ?? defaultCaptureSlot(database);
    // A fast shutdown of Postgres waits until every WAL sender's client has confirmed the end of
    // the WAL; a capture holding a batch it can no longer write never would, and the shutdown would
    // hang for as long as the stream stays open. The stream ends at once and resumes after the restart.
    db.onServerGoingAway((err) => {
      if (this.stream)
        this.fail(new Error(`Postgres is going away (${err.message}): ending the replication stream`));
    });
  }

  get running(): boolean {
    return this.stream !== null;
  }

  /** Called after every batch that added log rows (the router routes at once). */
  onCaptured(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Makes sure the slot exists and the position belongs to it. Any replica runs it at start, so
   * writes made after the service reports ready are in the stream. A slot that is missing while a
   * position is stored, lost (WAL removed past `max_slot_wal_keep_size`) or created over an
   * existing log has missed changes: it is recreated and every client is re-extracted (agents keep
   * their unsent changes across a re-extract).
   */
  async ensureSlot(): Promise<void> {
    const [slot, pos] = [await this.repo.slot(this.slotName), await this.repo.position()];
    if (slot && slot.walStatus !== 'lost' && pos?.slotName === this.slotName) return;
    let recreated = false;
    if (slot?.walStatus === 'lost') {
      this.logger.warn(`replication slot ${this.slotName} was invalidated (WAL removed): recreating it`);
      await this.repo.dropSlot(this.slotName);
    }
    if (!slot || slot.walStatus === 'lost') recreated = await this.repo.createSlot(this.slotName);
    const missed = pos !== null ? recreated || pos.slotName !== this.slotName : await this.repo.hasHistory();
    const clients = await this.repo.resetPosition(this.slotName, {
      replace: pos !== null,
      reextract: missed,
    });
    if (missed) {
      this.logger.warn(
        `capture slot ${this.slotName} starts without the changes before it: re-extracting ${clients} client(s)`,
      );
    }
  }

  /** Starts reading the stream unless it runs or waits for a retry after a failure. */
  async ensureRunning(): Promise<void> {
    if (this.stream || Date.now() < this.retryAt) return;
    try {
      await this.start();
    } catch (err) {
      this.fail(err);
    }
  }

  async stop(): Promise<void> {
    const stream = this.stream;
    this.stream = null;
    await stream?.destroy().catch(() => undefined);
    await this.draining;
    this.queue = [];
    this.queuedBytes = 0;
    this.batch = null;
    this.paused = false;
  }

  private async start(): Promise<void> {
    await this.ensureSlot();
    // Only the leader starts the stream. A slot still active belongs to a leader that died: its WAL
    // sender lingers until Postgres notices the broken connection (up to wal_sender_timeout), and
    // the slot cannot be read until it goes.
    // Without the right to end it (another role's), the stream waits for Postgres as before.
    const holder = await this.repo.takeOverSlot(this.slotName).catch((err: Error) => {
      this.logger.warn(`could not end the WAL sender holding ${this.slotName}: ${err.message}`);
      return null;
    });
    if (holder !== null)
      this.logger.warn(`replication slot ${this.slotName} was held by pid ${holder}: ended it`);
    const pos = await this.repo.position();
    if (!pos) throw new Error(`no capture position for slot ${this.slotName}`);
    const partial = pos.partialLsn === null ? null : { lsn: pos.partialLsn, rows: pos.partialRows };
    const stream = new LogicalReplicationService(
      { connectionString: this.config.databaseUrl, application_name: 'outpost-capture' },
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: false } },
    );
    const plugin = new PgoutputPlugin({
      protoVersion: 1,
      publicationNames: [CAPTURE_PUBLICATION],
      messages: true,
    });
    keepText(plugin);
    stream.on('data', (_lsn: string, msg: Pgoutput.Message) =>
      this.enqueue({ kind: 'data', msg, bytes: wireBytes.get(msg) ?? 0 }),
    );
    stream.on('heartbeat', (lsn: string) => this.enqueue({ kind: 'heartbeat', lsn }));
    stream.on('error', (err: Error) => {
      if (this.stream === stream) this.fail(err);
    });
    this.stream = stream;
    this.batch = new CaptureBatch(
      this.repo,
      this.decoder,
      { rows: this.config.captureBatchRows, bytes: this.config.captureBatchBytes },
      { lsn: pos.lsn, partial },
      (lsn) => void stream.acknowledge(lsn),
      () => this.notify(),
      this.logger,
    );
    stream.subscribe(plugin, this.slotName, pos.lsn).then(
      () => {
        if (this.stream === stream) this.fail(new Error('the replication stream ended'));
      },
      (err: unknown) => {
        if (this.stream === stream) this.fail(err);
      },
    );
    this.failures = 0;
    this.logger.log(`capturing from slot ${this.slotName} after ${pos.lsn}`);
  }

  private fail(err: unknown): void {
    this.failures += 1;
    captureMetrics.restarts.inc();
    const wait = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(this.failures - 1, 10));
    this.retryAt = Date.now() + wait;
    this.logger.error(
      `capture stopped (attempt ${this.failures}), restarting in ${wait} ms: ${err instanceof Error ? err.message : String(err)}`,
    );
    void this.stop();
  }

  private enqueue(item: Item): void {
    if (!this.stream) return;
    if (item.kind === 'heartbeat') this.checkStall(item.lsn);
    this.queue.push(item);
    if (item.kind === 'data') this.queuedBytes += item.bytes;
    if ((this.queue.length >= QUEUE_HIGH || this.queuedBytes >= QUEUE_HIGH_BYTES) && !this.paused)
      this.socket('pause');
    this.kickDrain();
  }

  /** One drain at a time; an item queued while a drain was finishing starts the next one. */
  private kickDrain(): void {
    if (this.draining) return;
    this.lastProgressAt = Date.now();
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.stream && this.queue.length > 0) this.kickDrain();
    });
  }

  private async drain(): Promise<void> {
    const stream = this.stream;
    const batch = this.batch as CaptureBatch;
    while (this.queue.length > 0 && this.stream === stream) {
      const item = this.queue.shift() as Item;
      if (item.kind === 'data') this.queuedBytes -= item.bytes;
      if (this.paused && this.queue.length <= QUEUE_LOW && this.queuedBytes <= QUEUE_LOW_BYTES)
        this.socket('resume');
      try {
        if (item.kind === 'heartbeat') batch.heartbeat(item.lsn);
        else await batch.handle(item.msg);
        this.lastProgressAt = Date.now();
        // Nothing more has arrived: what is held goes in after a short gather, so a steady stream of
        // small application transactions costs the server a capture commit per few of them, not
        // one each. Under load the queue fills up while a batch is written: batches grow by themselves.
        // Keepalives do not count as more to gather: Postgres 15 sends one for every transaction of
        // another database it skips, and a busy cluster would otherwise keep the batch from ever
        // being written (seen as routing waits of a minute and more).
        if (this.onlyKeepalivesQueued() && batch.waitingToWrite) {
          await new Promise((resolve) => setTimeout(resolve, this.config.captureFlushMs));
          if (this.onlyKeepalivesQueued() && this.stream === stream) await batch.flush();
        }
      } catch (err) {
        if (this.stream === stream) this.fail(err);
        return;
      }
    }
  }

  private onlyKeepalivesQueued(): boolean {
    return this.queue.every((item) => item.kind === 'heartbeat');
  }

  /** The library offers no pause of its own without taking over the order of our work. */
  private socket(action: 'pause' | 'resume'): void {
    this.paused = action === 'pause';
    const conn = (this.stream as unknown as { _connection?: { stream?: NodeJS.ReadableStream } } | null)
      ?._connection;
    if (action === 'pause') {
      captureMetrics.pauses.inc();
      conn?.stream?.pause();
    } else conn?.stream?.resume();
  }

  /**
   * Checked as each keepalive arrives (before it waits its turn in the queue): under load keepalives
   * come while work is held and moving; a capture that has finished nothing for a while is
   * stalled, and says what it holds, once per interval.
   */
  private checkStall(lsn: string): void {
    const now = Date.now();
    if (this.draining === null || now - this.lastProgressAt < STALL_WARN_MS) return;
    if (now - this.lastStallWarnAt < STALL_WARN_MS) return;
    this.lastStallWarnAt = now;
    this.logger.warn(
      `capture stalled: nothing handled for ${Math.round((now - this.lastProgressAt) / 1000)} s at keepalive ${lsn}; ` +
        `${this.queue.length} queued, ${this.batch?.describe() ?? 'no batch'}, socket ${this.paused ? 'paused' : 'flowing'}`,
    );
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
