import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { patterns, RefusalCode, type RouterKickEvent } from '@outpost/contracts';
import { compileVisibility, type Schema } from '@outpost/schema';
import { applyMetrics, EventPublisher } from '@outpost/server-kit';
import { archiveKey, inboxAreaPrefix, isNotFound, ObjectStore, quarantineKey } from '@outpost/storage';
import { APPLIER_CONFIG, type ApplierConfig } from '../config/applier.config';
import { PG_POOL } from '../database/pg-pool';
import { ApplyRejection, ApplyRejectionCode, FileRefusal } from './apply-rejection';
import { FileApplier, type InboxFile } from './file-applier';
import { FileRejecter, type Skip } from './file-rejecter';
import { failureSignature, isTransient } from './transient-error';
import { WriteGuard } from './write-guard';

export const SYNC_SCHEMA = Symbol('SYNC_SCHEMA');

type StoredFile = Pick<InboxFile, 'client' | 'fileSeq' | 'objectKey'>;

type StepResult =
  | { kind: 'applied'; file: InboxFile }
  | { kind: 'rejected'; file: InboxFile }
  | { kind: 'idle' }
  | { kind: 'quarantined' }
  | { kind: 'refused'; skip: Skip };

interface NextFile extends InboxFile {
  lastSeq: number;
  /** Set when an administrator rejected the file: skip it instead of applying it. */
  rejection: string | null;
}

/**
 * Applies each client's received files strictly in file-seq order from its apply position
 * (Siebel's Transaction Merger). A wake-up for a client drains every file that is next in line;
 * a redelivered or out-of-order wake-up finds nothing to do. The position row is locked for the
 * whole apply, so replicas never apply one client's files concurrently.
 */
@Injectable()
export class InboxApplyService implements OnModuleDestroy {
  private readonly logger = new Logger('InboxApply');
  private readonly fileApplier: FileApplier;
  private readonly fileRejecter: FileRejecter;
  private readonly maxAttempts: number;
  /** One drain per client at a time in this process; a wake-up during a drain queues one more pass. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    @Inject(APPLIER_CONFIG) config: ApplierConfig,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(SYNC_SCHEMA) schema: Schema,
    private readonly store: ObjectStore,
    private readonly publisher: EventPublisher,
  ) {
    this.fileRejecter = new FileRejecter(schema);
    this.maxAttempts = config.maxAttempts;
    const faultAt = config.faultAfterChunks;
    this.fileApplier = new FileApplier(schema, new WriteGuard(schema, compileVisibility(schema)), {
      chunkTxns: config.chunkTxns,
      history: config.schema.history,
      chunkBytes: config.chunkBytes,
      maxLineBytes: config.maxLineBytes,
      afterChunk: (n) => {
        applyMetrics.chunks.inc();
        if (faultAt !== undefined && n >= faultAt) process.kill(process.pid, 'SIGKILL');
      },
    });
  }

  /** Applies every file of `client` that is next in line. Rejects only on transient failures. */
  wake(client: string): Promise<void> {
    const previous = this.running.get(client) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.drain(client));
    this.running.set(client, next);
    const cleanup = () => {
      if (this.running.get(client) === next) this.running.delete(client);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  /** Wakes every client with a received file next in line, and finishes object moves a crash cut short. */
  async sweep(): Promise<void> {
    const res = await this.pool.query<{ client: string }>(
      `SELECT f.client FROM sync_inbox_file f
         LEFT JOIN sync_apply_position p ON p.client = f.client
        WHERE f.status = 'received' AND f.file_seq = coalesce(p.file_seq, 0) + 1`,
    );
    const stray = await this.pool.query<{
      client: string;
      file_seq: number;
      status: 'applied' | 'quarantined' | 'rejected' | 'refused';
      object_key: string;
    }>(
      `SELECT client, file_seq, status, object_key FROM sync_inbox_file
        WHERE status <> 'received' AND object_key LIKE $1 || '%' LIMIT 100`,
      [inboxAreaPrefix('inbox')],
    );
    for (const f of stray.rows) {
      // A file refused whole is kept with the applied ones; a rejected one was quarantined first.
      const archived = f.status === 'applied' || f.status === 'refused';
      const to = archived ? archiveKey(f.client, f.file_seq) : quarantineKey(f.client, f.file_seq);
      await this.moveObject({ client: f.client, fileSeq: f.file_seq, objectKey: f.object_key }, to);
    }
    await Promise.all(res.rows.map((r) => this.wake(r.client)));
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  private async drain(client: string): Promise<void> {
    for (;;) {
      let step = await this.applyNext(client);
      // A file refused whole is skipped in a transaction of its own: nothing of it is written.
      if (step.kind === 'refused') step = await this.applyNext(client, step.skip);
      if (step.kind === 'applied') await this.afterCommit(step.file, archiveKey(client, step.file.fileSeq));
      else if (step.kind === 'rejected') await this.afterCommit(step.file, null);
      else return;
    }
  }

  private async applyNext(client: string, refusal?: Skip): Promise<StepResult> {
    const db = await this.pool.connect();
    let broken = false;
    try {
      await db.query('BEGIN');
      const found = await this.lockNext(db, client);
      if (!found) {
        await db.query('ROLLBACK');
        return { kind: 'idle' };
      }
      const { file, position } = found;
      if (file.rejection !== null) {
        const skip: Skip = { status: 'rejected', code: RefusalCode.RejectedByAdmin, reason: file.rejection };
        return await this.reject(db, file, position, skip);
      }
      if (refusal) return await this.reject(db, file, position, refusal);
      try {
        const input = await this.openObject(file);
        try {
          const result = await this.fileApplier.apply(db, file, position, input);
          await db.query('COMMIT');
          this.logger.log(
            `applied ${client}/${file.fileSeq}: ${result.txnCount} transactions, ${result.conflicts} conflicts, ${result.refused} refused, ${result.echoes} echoes`,
          );
          return { kind: 'applied', file };
        } finally {
          input.destroy();
        }
      } catch (err) {
        await db.query('ROLLBACK');
        if (err instanceof FileRefusal) {
          this.logger.warn(`refusing every change of ${client}/${file.fileSeq}: ${err.message}`);
          return { kind: 'refused', skip: { status: 'refused', code: err.code, reason: err.message } };
        }
        const rejection = asRejection(err) ?? (await this.countFailure(file, err));
        if (!rejection) throw err;
        await this.quarantine(file, rejection);
        return { kind: 'quarantined' };
      }
    } catch (err) {
      broken = true;
      await db.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      db.release(broken);
    }
  }

  /** Skips a file an administrator rejected, or one refused whole: see FileRejecter. */
  private async reject(
    db: PoolClient,
    file: NextFile,
    position: { fileSeq: number; txnSeq: number },
    skip: Skip,
  ): Promise<StepResult> {
    const input = await this.openObject(file).catch((err: unknown) => {
      if (err instanceof ApplyRejection) return null;
      throw err;
    });
    try {
      const result = await this.fileRejecter.reject(db, file, position, input, skip);
      await db.query('COMMIT');
      this.logger.warn(
        `${skip.status} ${file.client}/${file.fileSeq} (${skip.reason}): ${result.echoes} rows echoed back` +
          (result.readable ? '' : ' (the file could not be read to its end)'),
      );
      return { kind: 'rejected', file };
    } finally {
      input?.destroy();
    }
  }

  /**
   * A failure that is not transient counts against the file; once it has failed the same way
   * `maxAttempts` times it is quarantined, whatever the error, so one file never holds up its
   * client's later files in a silent retry loop. Transient failures are retried with backoff.
   */
  private async countFailure(file: InboxFile, err: unknown): Promise<ApplyRejection | null> {
    if (isTransient(err)) return null;
    const signature = failureSignature(err);
    const res = await this.pool.query<{ attempts: number }>(
      `UPDATE sync_inbox_file
          SET attempts = CASE WHEN last_error = $3 THEN attempts + 1 ELSE 1 END, last_error = $3
        WHERE client = $1 AND file_seq = $2 AND status = 'received'
        RETURNING attempts`,
      [file.client, file.fileSeq, signature],
    );
    const attempts = res.rows[0]?.attempts ?? 0;
    this.logger.warn(
      `${file.client}/${file.fileSeq} failed (${attempts} of ${this.maxAttempts} the same way): ${signature}`,
    );
    if (attempts < this.maxAttempts) return null;
    return new ApplyRejection(
      ApplyRejectionCode.RepeatedFailure,
      `failed ${attempts} times the same way: ${signature}; fix the cause and "sync-admin inbox retry" the file, ` +
        `or "sync-admin inbox reject" it`,
    );
  }

  private async lockNext(db: PoolClient, client: string) {
    await db.query(
      `INSERT INTO sync_apply_position (client) SELECT name FROM sync_client WHERE name = $1 ON CONFLICT DO NOTHING`,
      [client],
    );
    const pos = await db.query<{ file_seq: number; txn_seq: number; user_login: string }>(
      `SELECT p.file_seq, p.txn_seq, c.user_login FROM sync_apply_position p JOIN sync_client c ON c.name = p.client
        WHERE p.client = $1 FOR UPDATE OF p`,
      [client],
    );
    if (pos.rowCount === 0) {
      this.logger.warn(`wake-up for unknown client "${client}" ignored`);
      return null;
    }
    const position = { fileSeq: Number(pos.rows[0].file_seq), txnSeq: Number(pos.rows[0].txn_seq) };
    const next = await db.query<{
      object_key: string;
      last_seq: number;
      rejection: string | null;
      received_at: string;
    }>(
      `SELECT object_key, last_seq, rejection, received_at FROM sync_inbox_file
        WHERE client = $1 AND file_seq = $2 AND status = 'received' FOR UPDATE`,
      [client, position.fileSeq + 1],
    );
    if (next.rowCount === 0) return null;
    const row = next.rows[0];
    const file: NextFile = {
      client,
      fileSeq: position.fileSeq + 1,
      objectKey: row.object_key,
      lastSeq: Number(row.last_seq),
      rejection: row.rejection,
      user: pos.rows[0].user_login,
      // The pool keeps timestamps as text (see pg-pool.ts).
      receivedAt: new Date(row.received_at),
    };
    return { file, position };
  }

  private async openObject(file: StoredFile) {
    try {
      return await this.store.getStream(this.store.inboxBucket, file.objectKey);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      throw new ApplyRejection(
        ApplyRejectionCode.ObjectMissing,
        `file ${file.client}/${file.fileSeq}: object ${file.objectKey} is missing from bucket ${this.store.inboxBucket}; have the client upload the file again`,
      );
    }
  }

  /** Refused for good: record why, park the object under quarantine/, and let later files wait. */
  private async quarantine(file: InboxFile, rejection: ApplyRejection): Promise<void> {
    const reason = `${rejection.code}: ${rejection.message}`;
    const res = await this.pool.query(
      `UPDATE sync_inbox_file SET status = 'quarantined', reason = $3 WHERE client = $1 AND file_seq = $2 AND status = 'received'`,
      [file.client, file.fileSeq, reason],
    );
    if (res.rowCount === 0) return;
    this.logger.warn(`quarantined ${file.client}/${file.fileSeq}: ${reason}`);
    if (rejection.code !== ApplyRejectionCode.ObjectMissing)
      await this.moveObject(file, quarantineKey(file.client, file.fileSeq));
  }

  /** `archiveTo` null: the object stays where it is (a rejected file's stays under quarantine/). */
  private async afterCommit(file: InboxFile, archiveTo: string | null): Promise<void> {
    if (archiveTo !== null) await this.moveObject(file, archiveTo);
    const kick: RouterKickEvent = { reason: 'applied', client: file.client };
    await this.publisher.publish('routerKick', patterns.routerKick, kick).catch((err: Error) => {
      this.logger.warn(
        `router not kicked after ${file.client}/${file.fileSeq} (it polls anyway): ${err.message}`,
      );
    });
  }

  /**
   * Copy, point the row at the copy, then remove the original: the row never names a missing
   * object. A failure leaves the row on the old key; the sweep finishes the move later.
   */
  private async moveObject(file: StoredFile, to: string): Promise<void> {
    if (file.objectKey === to) return;
    const bucket = this.store.inboxBucket;
    try {
      await this.store.copy(bucket, file.objectKey, bucket, to);
      const res = await this.pool.query(
        `UPDATE sync_inbox_file SET object_key = $4 WHERE client = $1 AND file_seq = $2 AND object_key = $3`,
        [file.client, file.fileSeq, file.objectKey, to],
      );
      if (res.rowCount === 1) await this.store.remove(bucket, file.objectKey);
    } catch (err) {
      this.logger.warn(
        `could not move ${file.objectKey} to ${to} (the sweep retries): ${(err as Error).message}`,
      );
    }
  }
}

function asRejection(err: unknown): ApplyRejection | null {
  if (err instanceof ApplyRejection) return err;
  const code = (err as { code?: unknown }).code;
  // Class 22 is a data exception: a value Postgres refuses will be refused on every retry.
  if (typeof code === 'string' && code.startsWith('22')) {
    return new ApplyRejection(
      ApplyRejectionCode.ValueRefused,
      `Postgres refused a value of this file: ${(err as Error).message}; fix the client data and re-upload`,
    );
  }
  // A business key taken at the same moment by a transaction that committed first (another file
  // applied beside this one, or the web application): applied again, the file finds the key's
  // holder and keeps its row marked as a duplicate. Counted like any failure, never quarantined at once.
  if (code === '23P01' && /_unique_key$/.test(String((err as { constraint?: unknown }).constraint))) {
    return null;
  }
  // Class 23 is an integrity violation: the same file would break the same constraint on every
  // retry, so it must not wedge the client's queue in a silent retry loop.
  if (typeof code === 'string' && code.startsWith('23')) {
    return new ApplyRejection(
      ApplyRejectionCode.ConstraintRefused,
      `Postgres refused this file: ${(err as Error).message}; check the rows it names, then ` +
        `"sync-admin inbox retry" the file`,
    );
  }
  return null;
}
