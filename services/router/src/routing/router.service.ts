import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { VisibilityPlan } from '@outpost/schema';
import type { RouterConfig } from '../config/router.config';
import { RouterDatabase, type Queryable } from '../database/router-database';
import { ExtractService } from '../extract/extract.service';
import { OutboxWriter } from '../outbox/outbox-writer';
import { SchemaRefreshService } from '../refresh/schema-refresh.service';
import { ROUTER_CONFIG, VISIBILITY } from '../router.tokens';
import { deliverPlan } from './delivery';
import { RouteBatch, type ClientPlan, type RouteTarget } from './route-batch';
import { readSnapshot, RouteRepository, type LogEntry, type RouteClient } from './route.repository';

const RETRY_BASE_MS = 1_000;

function backoff(failures: number, maxMs: number): number {
  return Math.min(maxMs, RETRY_BASE_MS * 2 ** Math.min(failures, 20));
}

function message(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * One routing pass: the next batch of the transaction log for every client that is in step with
 * the watermark, then a catch-up batch for each client left behind by an earlier failure or by its
 * extract. A failing client never holds the watermark back: it keeps its own position and is
 * retried with back-off from there. Extracts run beside the passes, one at a time, so a client's
 * million-row snapshot never holds up routing for the others; the extracted client then catches up
 * from its snapshot's log position like any client left behind.
 */
@Injectable()
export class RouterService {
  private readonly logger = new Logger('Router');
  /** Extracts of clients without route state cannot record failures in the database; kept here. */
  private readonly extractRetry = new Map<string, { failures: number; at: number }>();
  private extracting: Promise<void> | null = null;

  constructor(
    private readonly db: RouterDatabase,
    private readonly repo: RouteRepository,
    @Inject(VISIBILITY) private readonly visibility: VisibilityPlan,
    private readonly extracts: ExtractService,
    private readonly outbox: OutboxWriter,
    @Inject(ROUTER_CONFIG) private readonly options: RouterConfig,
    @Optional() private readonly refresher?: SchemaRefreshService,
  ) {}

  /** Returns true when more work is waiting (a full batch was read), so the caller runs again at once. */
  async runPass(): Promise<boolean> {
    const clients = await this.repo.activeClients();
    this.startExtracts(clients);

    const now = Date.now();
    const routed = clients.filter((c) => c.state !== null && !ExtractService.pending(c));
    const due = (c: RouteClient) => c.state?.retryAt == null || c.state.retryAt.getTime() <= now;
    // A partial re-extract moves the client's file seq: the pass starts again with fresh states.
    if (await this.refreshSchemas(routed.filter(due))) return true;
    const watermark = await this.repo.watermark();
    let more = false;

    const entries = await this.repo.readLog(watermark, this.options.batchSize);
    let upTo = watermark;
    if (entries.length > 0) {
      upTo = entries[entries.length - 1].seq;
      const inStep = routed.filter((c) => (c.state?.fromSeq ?? 0) >= watermark && due(c));
      const quiet = await this.routeBatch(
        entries,
        inStep.map(target).filter((t) => t.fromSeq < upTo),
        upTo,
      );
      await this.repo.advance(quiet, upTo, upTo);
      more = entries.length === this.options.batchSize;
    }

    for (const client of routed.filter((c) => (c.state?.fromSeq ?? 0) < watermark && due(c))) {
      const t = target(client);
      const behind = await this.repo.readLog(t.fromSeq, this.options.batchSize, upTo);
      const end = behind.length > 0 ? behind[behind.length - 1].seq : upTo;
      const quiet = behind.length > 0 ? await this.routeBatch(behind, [t], end) : [t.name];
      if (quiet.length > 0) await this.repo.advance(quiet, end, upTo);
      more ||= behind.length === this.options.batchSize;
    }
    return more;
  }

  /**
   * Plans and delivers one batch; returns the clients that had nothing to receive. The files are
   * written inside the snapshot the plan was decided on: their rows are read from it a page at a
   * time as each file is written, never held for the whole batch.
   */
  private async routeBatch(entries: LogEntry[], targets: RouteTarget[], upToSeq: number): Promise<string[]> {
    if (targets.length === 0) return [];
    const busy = await readSnapshot(this.db, async (snapshot) => {
      const plans = await new RouteBatch(this.repo, snapshot, this.visibility, targets).plan(entries);
      const lastSeqs =
        plans.length > 0
          ? await this.repo.lastDownloadSeqs(
              plans.map((p) => ({ name: p.target.name, epoch: p.target.epoch })),
            )
          : new Map<string, number>();
      for (const plan of plans)
        await this.deliver(plan, upToSeq, lastSeqs.get(plan.target.name) ?? 0, snapshot);
      return new Set(plans.map((p) => p.target.name));
    });
    return targets.filter((t) => !busy.has(t.name)).map((t) => t.name);
  }

  private async deliver(plan: ClientPlan, upToSeq: number, lastDownloadSeq: number, snapshot: Queryable) {
    const client = plan.target.name;
    try {
      const { files, txns } = await deliverPlan({
        plan,
        upToSeq,
        lastDownloadSeq,
        tableOrder: this.visibility.tableOrder,
        maxFileTxns: this.options.maxFileTxns,
        fetchBytes: this.options.fetchBytes,
        rows: (table, ids) => this.repo.currentRows(snapshot, table, ids),
        outbox: this.outbox,
        repo: this.repo,
      });
      if (files > 0)
        this.logger.log(
          `routed ${txns} transactions to ${client} in ${files} file(s), up to log seq ${upToSeq}`,
        );
    } catch (err) {
      await this.recordFailure(client, err);
    }
  }

  /** Sends the partial re-extract to clients routed under an older schema version; true when any was sent. */
  private async refreshSchemas(clients: RouteClient[]): Promise<boolean> {
    const refresher = this.refresher;
    if (!refresher) return false;
    let any = false;
    for (const client of clients.filter((c) => refresher.behind(c))) {
      try {
        const r = await refresher.refresh(client);
        this.logger.log(
          `schema v${refresher.version}: sent ${client.name} ${r.rows} rows and ${r.evicted} evicts of ${r.tables.join(', ') || 'no table'}`,
        );
        any = true;
      } catch (err) {
        await this.recordFailure(client.name, err);
      }
    }
    return any;
  }

  private async recordFailure(client: string, err: unknown): Promise<void> {
    const failures = (await this.repo.activeClients()).find((c) => c.name === client)?.state?.failures ?? 0;
    const retryMs = backoff(failures, this.options.retryMaxMs);
    this.logger.error(
      `routing to ${client} failed (attempt ${failures + 1}), retrying in ${retryMs} ms: ${message(err)}`,
    );
    await this.repo.markFailed(client, message(err), retryMs);
  }

  /** Waits for an extract in progress (at shutdown, before the leader lock is released). */
  async settle(): Promise<void> {
    await this.extracting;
  }

  /** Starts the due extracts in the background unless some are running; they run one at a time. */
  private startExtracts(clients: RouteClient[]): void {
    if (this.extracting) return;
    const due = clients.filter((c) => {
      const retry = this.extractRetry.get(c.name);
      return ExtractService.pending(c) && !(retry && retry.at > Date.now());
    });
    if (due.length === 0) return;
    this.extracting = this.runExtracts(due).finally(() => {
      this.extracting = null;
    });
  }

  private async runExtracts(clients: RouteClient[]): Promise<void> {
    for (const client of clients) {
      const retry = this.extractRetry.get(client.name);
      const started = Date.now();
      try {
        const result = await this.extracts.extract(client);
        this.extractRetry.delete(client.name);
        this.logger.log(
          `extracted ${result.rows} rows for ${client.name} (epoch ${result.epoch}, ${result.bytes} bytes, snapshot at log seq ${result.snapshotSeq}) in ${Date.now() - started} ms: ` +
            `holdings ${result.phases.holdings} ms, then the file ${result.phases.file} ms`,
        );
      } catch (err) {
        const failures = (retry?.failures ?? 0) + 1;
        const retryMs = backoff(failures - 1, this.options.retryMaxMs);
        this.extractRetry.set(client.name, { failures, at: Date.now() + retryMs });
        this.logger.error(
          `extract for ${client.name} failed (attempt ${failures}), retrying in ${retryMs} ms: ${message(err)}`,
        );
      }
    }
  }
}

function target(client: RouteClient): RouteTarget {
  const state = client.state;
  if (!state) throw new Error(`client ${client.name} has no route state; it must be extracted first`);
  return { name: client.name, fromSeq: state.fromSeq, epoch: state.epoch, nextFileSeq: state.nextFileSeq };
}
