import { Inject, Injectable, Logger } from '@nestjs/common';
import { retentionMetrics } from '@outpost/server-kit';
import { archiveKey, ObjectStore, PARTS_ROOT, quarantineKey } from '@outpost/storage';
import type { RouterConfig } from '../config/router.config';
import { ROUTER_CONFIG } from '../router.tokens';
import { RetentionRepository, type RecordTable } from './retention.repository';

const DAY_MS = 86_400_000;

/** Counts of one prune pass, by kind. */
export interface PruneCounts {
  log: number;
  conflict: number;
  refusal: number;
  auth_audit: number;
  inbox_file: number;
  outbound_file: number;
  upload_part: number;
  reextract: number;
}

const RECORDS: Array<[RecordTable, keyof PruneCounts]> = [
  ['sync_conflict', 'conflict'],
  ['sync_refusal', 'refusal'],
  ['sync_auth_audit', 'auth_audit'],
];

/**
 * One prune pass: log entries every routed client has passed, administrator records, and the
 * objects (then rows) of files nobody will read again. Each step works in batches of
 * `retentionBatchRows` until nothing older is left, so no statement holds many locks for long,
 * and `shouldStop` (the leader lease, the shutdown) is checked between batches.
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger('Retention');

  constructor(
    private readonly repo: RetentionRepository,
    private readonly store: ObjectStore,
    @Inject(ROUTER_CONFIG) private readonly config: RouterConfig,
  ) {}

  async prune(shouldStop: () => Promise<boolean> | boolean = () => false): Promise<PruneCounts> {
    const counts: PruneCounts = {
      log: 0,
      conflict: 0,
      refusal: 0,
      auth_audit: 0,
      inbox_file: 0,
      outbound_file: 0,
      upload_part: 0,
      reextract: 0,
    };
    const now = Date.now();
    const before = (days: number) => new Date(now - days * DAY_MS);
    const { retentionLogDays: logDays, retentionRecordsDays: recordDays } = this.config;
    const { retentionFilesDays: fileDays, retentionBatchRows: limit } = this.config;

    if (logDays > 0) {
      const stale = await this.repo.requestStaleExtracts(before(logDays));
      if (stale.length > 0)
        this.logger.log(`re-extract for ${stale.join(', ')}: nothing downloaded for ${logDays} day(s)`);
      counts.reextract += stale.length;
      const horizon = await this.repo.logHorizon();
      for (let more = true; more && !(await shouldStop());) {
        const r = await this.repo.pruneLog(horizon, before(logDays), limit);
        counts.log += r.deleted;
        counts.reextract += r.reextract.length;
        if (r.reextract.length > 0)
          this.logger.log(`re-extract for ${r.reextract.join(', ')}: their log position was pruned`);
        more = r.deleted === limit;
      }
    }
    if (recordDays > 0) {
      for (const [table, kind] of RECORDS) {
        for (let more = true; more && !(await shouldStop());) {
          const n = await this.repo.pruneRecords(table, before(recordDays), limit);
          counts[kind] += n;
          more = n === limit;
        }
      }
    }
    if (fileDays > 0) {
      counts.inbox_file = await this.pruneInbox(before(fileDays), limit, shouldStop);
      counts.outbound_file = await this.pruneOutbound(before(fileDays), limit, shouldStop);
    }
    if (this.config.retentionPartsDays > 0)
      counts.upload_part = await this.pruneParts(before(this.config.retentionPartsDays), limit, shouldStop);
    for (const [kind, n] of Object.entries(counts)) if (n > 0) retentionMetrics.pruned.inc({ kind }, n);
    return counts;
  }

  /** Objects first, rows after: a crash in between leaves a row whose object is gone, removed again next pass. */
  private async pruneInbox(
    before: Date,
    limit: number,
    shouldStop: () => Promise<boolean> | boolean,
  ): Promise<number> {
    let total = 0;
    for (let more = true; more && !(await shouldStop());) {
      const files = await this.repo.inboxFilesToPrune(before, limit);
      for (const f of files) {
        // An interrupted move may have left the bytes at any of these keys; removing a missing one succeeds.
        const keys = new Set([
          f.objectKey,
          archiveKey(f.client, f.fileSeq),
          quarantineKey(f.client, f.fileSeq),
        ]);
        for (const key of keys) await this.store.remove(this.store.inboxBucket, key);
      }
      if (files.length > 0) total += await this.repo.deleteInboxRows(files);
      more = files.length === limit;
    }
    return total;
  }

  /**
   * Parts of resumable uploads that were never finished (a finished or restarted upload removes
   * its own). Only the objects exist, no rows: their age is the time they were written.
   */
  private async pruneParts(
    before: Date,
    limit: number,
    shouldStop: () => Promise<boolean> | boolean,
  ): Promise<number> {
    const keys = await this.store.listOlder(this.store.inboxBucket, PARTS_ROOT, before);
    let removed = 0;
    for (let i = 0; i < keys.length && !(await shouldStop()); i += limit) {
      const batch = keys.slice(i, i + limit);
      for (const key of batch) await this.store.remove(this.store.inboxBucket, key);
      removed += batch.length;
    }
    return removed;
  }

  private async pruneOutbound(
    before: Date,
    limit: number,
    shouldStop: () => Promise<boolean> | boolean,
  ): Promise<number> {
    let total = 0;
    for (let more = true; more && !(await shouldStop());) {
      const files = await this.repo.outboundFilesToPrune(before, limit);
      for (const f of files) await this.store.remove(this.store.outboxBucket, f.objectKey);
      if (files.length > 0) total += await this.repo.deleteOutboundRows(files);
      more = files.length === limit;
    }
    return total;
  }
}
