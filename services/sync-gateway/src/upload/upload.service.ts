import { Injectable, Logger } from '@nestjs/common';
import { ErrorCode, patterns, type DxFileReceivedEvent, type UploadResponse } from '@outpost/contracts';
import { DxFormatError, validateDx, type DxReadSummary } from '@outpost/dx-format';
import { DomainError, EventPublisher } from '@outpost/server-kit';
import { PassThrough, type Readable } from 'node:stream';
import { InboxStoreClient, type HeldFile } from '../infra/inbox-store.client';

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/**
 * An upload streams once through two branches: the DX validator and the inbox-store's staging
 * PUT. Only when both succeed and the header names this client and file seq is the staged file
 * committed (status `received`); otherwise it is discarded. Then the applier is woken through a
 * confirmed, persistent `dx.file.received`, and only then does the agent hear "stored": an agent
 * that saw 201 can forget the file.
 */
@Injectable()
export class UploadService {
  private readonly logger = new Logger(UploadService.name);

  constructor(
    private readonly inbox: InboxStoreClient,
    private readonly publisher: EventPublisher,
  ) {}

  async upload(
    client: string,
    fileSeq: number,
    sha256: string,
    body: Readable,
    correlationId: string,
  ): Promise<UploadResponse> {
    const held = await this.inbox.head(client, fileSeq, correlationId);
    if (held) {
      body.resume();
      if (held.sha256 !== sha256) throw seqTaken(client, fileSeq, correlationId);
      return this.duplicate(client, fileSeq, held);
    }

    const toStore = new PassThrough();
    const toValidate = new PassThrough();
    const abort = () => {
      const err = new DomainError(
        ErrorCode.ValidationFailed,
        'The upload was interrupted before the whole file arrived',
        undefined,
        correlationId,
      );
      toStore.destroy(err);
      toValidate.destroy(err);
    };
    body.once('aborted', abort);
    body.once('error', abort);
    body.pipe(toStore);
    body.pipe(toValidate);

    // A branch that stops reading would stall the other through backpressure: drain it instead.
    const staging = settle(this.inbox.stage(client, fileSeq, sha256, toStore, correlationId));
    const validation = settle(validateDx(toValidate));
    void staging.then((s) => !s.ok && toStore.resume());
    void validation.then(() => toValidate.resume());
    const [staged, validated] = await Promise.all([staging, validation]);

    if (!staged.ok) throw staged.error;
    if (staged.value.status === 'duplicate') return this.duplicate(client, fileSeq, staged.value);
    const { uploadId } = staged.value;
    let summary: DxReadSummary;
    try {
      summary = this.checkValidation(validated, client, fileSeq, correlationId);
    } catch (err) {
      await this.inbox.discard(client, fileSeq, uploadId, correlationId).catch((e: Error) => {
        this.logger.warn(`[${correlationId}] staged upload ${uploadId} not discarded: ${e.message}`);
      });
      throw err;
    }
    const { header } = summary;
    const range = { txnCount: header.count, firstSeq: header.firstSeq, lastSeq: header.lastSeq };
    const committed = await this.inbox.commit(
      client,
      fileSeq,
      uploadId,
      staged.value.sha256,
      range,
      correlationId,
    );
    await this.announce(client, fileSeq, committed);
    return { status: committed.status, fileSeq };
  }

  private checkValidation(
    validated: Settled<DxReadSummary>,
    client: string,
    fileSeq: number,
    correlationId: string,
  ): DxReadSummary {
    if (!validated.ok) {
      const err = validated.error;
      if (err instanceof DxFormatError) {
        throw new DomainError(
          ErrorCode.DxInvalid,
          `File ${fileSeq} is not a valid DX file: ${err.message}`,
          {
            dxCode: err.code,
            ...(err.txIndex !== undefined && { txIndex: err.txIndex }),
            ...(err.byteOffset !== undefined && { byteOffset: err.byteOffset }),
          },
          correlationId,
        );
      }
      throw err;
    }
    const { header } = validated.value;
    if (header.client !== client) {
      throw new DomainError(
        ErrorCode.DxWrongClient,
        `File ${fileSeq} was written by client "${header.client}", but this session belongs to "${client}"`,
        { headerClient: header.client },
        correlationId,
      );
    }
    if (header.fileSeq !== fileSeq || header.direction !== 'upload') {
      throw new DomainError(
        ErrorCode.DxInvalid,
        `The DX header says ${header.direction} file ${header.fileSeq}, but it was sent as upload file ${fileSeq}`,
        { dxCode: 'HEADER_MISMATCH' },
        correlationId,
      );
    }
    return validated.value;
  }

  /** A duplicate is announced again: harmless for the applier, and it covers a crash between store and publish. */
  private async duplicate(client: string, fileSeq: number, held: HeldFile): Promise<UploadResponse> {
    await this.announce(client, fileSeq, held);
    return { status: 'duplicate', fileSeq };
  }

  private announce(client: string, fileSeq: number, held: HeldFile): Promise<void> {
    const event: DxFileReceivedEvent = {
      client,
      fileSeq,
      objectKey: held.objectKey,
      sha256: held.sha256,
      size: held.size,
    };
    return this.publisher.publish('dxInbox', patterns.dxFileReceived, event);
  }
}

function seqTaken(client: string, fileSeq: number, correlationId: string): DomainError {
  return new DomainError(
    ErrorCode.FileSeqTaken,
    `The server already holds a different file ${fileSeq} for "${client}"; file seqs are never reused`,
    { fileSeq },
    correlationId,
  );
}
