import type { EntityManager } from 'typeorm';
import { Injectable, Logger } from '@nestjs/common';
import { ErrorCode, patterns, type DxFileReceivedEvent, type InboxFileView } from '@outpost/contracts';
import { DomainError, EventPublisher } from '@outpost/server-kit';
import { inboxKey, ObjectStore, stagingKey } from '@outpost/storage';
import { randomUUID } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { toInboxViews } from './inbox-file.entity';
import { InboxRepository } from './inbox.repository';
import { Sha256Meter } from './sha256-meter';
import type { CommitRequest, TxnRange } from './dto/inbox-params';

export interface HeldFile {
  objectKey: string;
  sha256: string;
  size: number;
}
export type PutResult =
  | ({ status: 'stored' } & HeldFile)
  | ({ status: 'duplicate' } & HeldFile)
  | { status: 'staged'; uploadId: string; sha256: string; size: number };

/**
 * The inbox's byte path. A file reaches `received` in two steps: its bytes go to a staging key
 * (hashed on the way), then a commit inserts the row and copies the bytes to the inbox key in the
 * same database transaction. A row therefore never points at a missing object, a crash leaves at
 * most an unreferenced staging or inbox object, and a caller that must validate the content first
 * (the gateway) stages, validates, then commits: an invalid file never becomes `received`.
 */
@Injectable()
export class InboxService {
  private readonly logger = new Logger(InboxService.name);

  constructor(
    private readonly repo: InboxRepository,
    private readonly store: ObjectStore,
    private readonly publisher: EventPublisher,
  ) {}

  /** Without `range` the file is staged only; with it the file is committed too. */
  async put(
    client: string,
    fileSeq: number,
    body: Readable,
    expectedSha256: string,
    range?: TxnRange,
  ): Promise<PutResult> {
    const held = await this.held(client, fileSeq, expectedSha256);
    if (held) {
      body.resume();
      return { status: 'duplicate', ...held };
    }
    const uploadId = randomUUID();
    const key = stagingKey(client, fileSeq, uploadId);
    const meter = new Sha256Meter();
    const piped = pipeline(body, meter, () => undefined);
    await this.store.putStream(this.store.inboxBucket, key, piped);
    const { sha256, size } = meter.result();
    if (sha256 !== expectedSha256) {
      await this.store.remove(this.store.inboxBucket, key);
      throw new DomainError(
        ErrorCode.ChecksumMismatch,
        `File ${fileSeq} of "${client}" arrived with sha256 ${sha256}, not the ${expectedSha256} announced; send it again`,
        { expected: expectedSha256, actual: sha256, size },
      );
    }
    if (!range) return { status: 'staged', uploadId, sha256, size };
    return this.commit(client, fileSeq, { uploadId, sha256, ...range });
  }

  async commit(client: string, fileSeq: number, req: CommitRequest): Promise<PutResult> {
    const staged = stagingKey(client, fileSeq, req.uploadId);
    const stat = await this.store.stat(this.store.inboxBucket, staged);
    if (!stat) {
      const held = await this.held(client, fileSeq, req.sha256);
      if (held) return { status: 'duplicate', ...held };
      throw new DomainError(
        ErrorCode.FileNotFound,
        `No staged upload ${req.uploadId} for file ${fileSeq} of "${client}"; upload it again`,
      );
    }
    const objectKey = inboxKey(client, fileSeq);
    const { sha256, txnCount, firstSeq, lastSeq } = req;
    const file = { client, fileSeq, objectKey, sha256, size: stat.size, txnCount, firstSeq, lastSeq };
    const inserted = await this.repo
      .transaction(async (em) => {
        await this.refuseGap(em, client, fileSeq);
        if (!(await this.repo.insertReceived(em, file).catch(unknownClientError(client)))) return false;
        await this.store.copy(this.store.inboxBucket, staged, this.store.inboxBucket, objectKey);
        return true;
      })
      .finally(() => this.discardStaged(client, fileSeq, req.uploadId));
    if (inserted) return { status: 'stored', objectKey, sha256: req.sha256, size: stat.size };
    const held = await this.held(client, fileSeq, req.sha256);
    if (!held)
      throw new DomainError(ErrorCode.Internal, `File ${fileSeq} of "${client}" vanished during its commit`);
    return { status: 'duplicate', ...held };
  }

  /**
   * Files apply in order, so a file that skips a number would wait for ever behind the missing one:
   * a laptop gets a clear answer instead. The newest row is the reference (not the previous seq's
   * row), so pruning old inbox rows can never make an honest upload look like a gap.
   */
  private async refuseGap(em: EntityManager, client: string, fileSeq: number): Promise<void> {
    const newest = await this.repo.newestFileSeq(em, client);
    if (fileSeq <= newest + 1) return;
    throw new DomainError(
      ErrorCode.FileSeqGap,
      `File ${fileSeq} of "${client}" skips a number: the server holds files up to ${newest}; send file ${newest + 1} first`,
      { fileSeq, expected: newest + 1 },
    );
  }

  /**
   * A duplicate upload of a held file wakes the applier again once: that covers a gateway that
   * crashed between storing the file and announcing it, without letting a laptop that re-sends the
   * file in a loop publish an event per request.
   */
  async reannounce(client: string, fileSeq: number): Promise<{ announced: boolean }> {
    const row = await this.repo.claimReannounce(client, fileSeq);
    if (!row) return { announced: false };
    try {
      await this.announce(client, fileSeq, row);
    } catch (err) {
      await this.repo.releaseReannounce(client, fileSeq);
      throw err;
    }
    return { announced: true };
  }

  private announce(client: string, fileSeq: number, row: HeldFile): Promise<void> {
    const { objectKey, sha256, size } = row;
    const event: DxFileReceivedEvent = { client, fileSeq, objectKey, sha256, size };
    return this.publisher.publish('dxInbox', patterns.dxFileReceived, event);
  }

  /** Removing a staged object is cleanup only: a leftover is never referenced. */
  async discardStaged(client: string, fileSeq: number, uploadId: string): Promise<void> {
    await this.store
      .remove(this.store.inboxBucket, stagingKey(client, fileSeq, uploadId))
      .catch((err: Error) => {
        this.logger.warn(
          `could not remove staged upload ${uploadId} of ${client}/${fileSeq}: ${err.message}`,
        );
      });
  }

  async head(client: string, fileSeq: number): Promise<HeldFile | null> {
    const row = await this.repo.find(client, fileSeq);
    return row ? { objectKey: row.objectKey, sha256: row.sha256, size: row.size } : null;
  }

  async list(client: string): Promise<InboxFileView[]> {
    return toInboxViews(await this.repo.listForClient(client));
  }

  /**
   * Puts a quarantined file back in line: copy its bytes to the inbox key, flip the row, then
   * drop the quarantined copy, and wake the applier.
   */
  async retry(client: string, fileSeq: number): Promise<InboxFileView> {
    const row = await this.repo.find(client, fileSeq);
    if (!row)
      throw new DomainError(ErrorCode.FileNotFound, `Client "${client}" has no inbox file ${fileSeq}`);
    if (row.status !== 'quarantined') {
      throw new DomainError(
        ErrorCode.ValidationFailed,
        `File ${fileSeq} of "${client}" is ${row.status}; only a quarantined file can be retried`,
      );
    }
    const target = inboxKey(client, fileSeq);
    const requeued = await this.repo.transaction(async (em) => {
      if (row.objectKey !== target)
        await this.store.copy(this.store.inboxBucket, row.objectKey, this.store.inboxBucket, target);
      return this.repo.requeue(em, client, fileSeq, target);
    });
    if (!requeued)
      throw new DomainError(
        ErrorCode.ValidationFailed,
        `File ${fileSeq} of "${client}" changed status during the retry; look again`,
      );
    if (row.objectKey !== target) await this.store.remove(this.store.inboxBucket, row.objectKey);
    const event: DxFileReceivedEvent = {
      client,
      fileSeq,
      objectKey: target,
      sha256: row.sha256,
      size: row.size,
    };
    await this.publisher.publish('dxInbox', patterns.dxFileReceived, event);
    const view = (await this.list(client)).find((v) => v.fileSeq === fileSeq);
    if (!view)
      throw new DomainError(ErrorCode.Internal, `File ${fileSeq} of "${client}" vanished after its retry`);
    return view;
  }

  /**
   * Skips a quarantined file for good: the applier takes it in turn, moves the client's position
   * past it, and sends the laptop the server's state of every row it touched. The bytes stay under
   * quarantine/ for the record.
   */
  async reject(client: string, fileSeq: number, reason: string): Promise<InboxFileView> {
    const row = await this.repo.find(client, fileSeq);
    if (!row)
      throw new DomainError(ErrorCode.FileNotFound, `Client "${client}" has no inbox file ${fileSeq}`);
    if (row.status !== 'quarantined' || !(await this.repo.markRejected(client, fileSeq, reason))) {
      throw new DomainError(
        ErrorCode.ValidationFailed,
        `File ${fileSeq} of "${client}" is ${row.status}; only a quarantined file can be rejected`,
      );
    }
    await this.announce(client, fileSeq, row);
    const view = (await this.list(client)).find((v) => v.fileSeq === fileSeq);
    if (!view)
      throw new DomainError(
        ErrorCode.Internal,
        `File ${fileSeq} of "${client}" vanished after its rejection`,
      );
    return view;
  }

  /** The file already held under (client, fileSeq): same bytes is a duplicate, others take the seq. */
  private async held(client: string, fileSeq: number, sha256: string): Promise<HeldFile | null> {
    const row = await this.repo.find(client, fileSeq);
    if (!row) return null;
    if (row.sha256 !== sha256) {
      throw new DomainError(
        ErrorCode.FileSeqTaken,
        `File seq ${fileSeq} of "${client}" already holds different content (sha256 ${row.sha256}); file seqs are never reused`,
        { fileSeq, sha256: row.sha256 },
      );
    }
    return { objectKey: row.objectKey, sha256: row.sha256, size: row.size };
  }
}

const FOREIGN_KEY_VIOLATION = '23503';

function unknownClientError(client: string) {
  return (err: unknown): never => {
    const code = (err as { driverError?: { code?: string } }).driverError?.code;
    if (code === FOREIGN_KEY_VIOLATION) {
      throw new DomainError(ErrorCode.ClientUnknown, `No client named "${client}" is registered`);
    }
    throw err;
  };
}
