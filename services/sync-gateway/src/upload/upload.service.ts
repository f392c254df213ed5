import { Inject, Injectable, Logger } from '@nestjs/common';
import { ErrorCode, patterns, type DxFileReceivedEvent, type UploadResponse } from '@outpost/contracts';
import { DxFormatError, type DxReadSummary } from '@outpost/dx-format';
import { DomainError, EventPublisher } from '@outpost/server-kit';
import { PassThrough, type Readable } from 'node:stream';
import type { GatewayConfig } from '../config';
import { InboxStoreClient, type HeldFile } from '../infra/inbox-store.client';
import { GATEWAY_CONFIG } from '../infra/infra.tokens';
import { guardBody, tooLarge } from './body-guard';
import { validateUpload } from './upload-validation';

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
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async upload(
    client: string,
    fileSeq: number,
    sha256: string,
    body: Readable,
    declaredBytes: number | undefined,
    correlationId: string,
  ): Promise<UploadResponse> {
    // A declared size over the cap is refused before a byte is read or the inbox asked.
    if (declaredBytes !== undefined && declaredBytes > this.config.uploadMaxBytes)
      throw tooLarge(fileSeq, this.config.uploadMaxBytes, correlationId);
    const held = await this.inbox.head(client, fileSeq, correlationId);
    if (held) {
      body.resume();
      if (held.sha256 !== sha256) throw seqTaken(client, fileSeq, correlationId);
      return this.duplicate(client, fileSeq, correlationId);
    }

    const toStore = new PassThrough();
    const toValidate = new PassThrough();
    let cutBy: DomainError | undefined;
    const cut = (reason: DomainError) => {
      cutBy ??= reason;
      body.unpipe(toStore);
      body.unpipe(toValidate);
      toStore.destroy(cutBy);
      toValidate.destroy(cutBy);
    };
    const interrupted = () =>
      cut(
        new DomainError(
          ErrorCode.ValidationFailed,
          'The upload was interrupted before the whole file arrived',
          undefined,
          correlationId,
        ),
      );
    body.once('aborted', interrupted);
    body.once('error', interrupted);
    // Watch the bytes before the branches see them, so an oversized chunk is never forwarded.
    const unguard = guardBody(
      body,
      { maxBytes: this.config.uploadMaxBytes, idleTimeoutMs: this.config.uploadIdleTimeoutMs },
      fileSeq,
      correlationId,
      cut,
    );
    body.pipe(toStore);
    body.pipe(toValidate);

    // A branch that stops reading would stall the other through backpressure: drain it instead,
    // unless it stopped on a server limit, which ends the upload at once.
    const limits = { maxFileRows: this.config.uploadMaxFileRows, maxTxnBytes: this.config.uploadMaxTxnBytes };
    const staging = settle(this.inbox.stage(client, fileSeq, sha256, toStore, correlationId));
    const validation = settle(validateUpload(toValidate, fileSeq, limits, correlationId));
    void staging.then((s) => !s.ok && toStore.resume());
    void validation.then((v) => {
      if (!v.ok && isLimit(v.error)) cut(v.error);
      else toValidate.resume();
    });
    const [staged, validated] = await Promise.all([staging, validation]);
    unguard();

    if (cutBy) {
      if (staged.ok && staged.value.status === 'staged')
        await this.discard(client, fileSeq, staged.value.uploadId, correlationId);
      throw cutBy;
    }
    if (!staged.ok) throw staged.error;
    if (staged.value.status === 'duplicate') return this.duplicate(client, fileSeq, correlationId);
    const { uploadId } = staged.value;
    let summary: DxReadSummary;
    try {
      summary = this.checkValidation(validated, client, fileSeq, correlationId);
    } catch (err) {
      await this.discard(client, fileSeq, uploadId, correlationId);
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
    if (committed.status === 'duplicate') return this.duplicate(client, fileSeq, correlationId);
    await this.announce(client, fileSeq, committed);
    return { status: committed.status, fileSeq };
  }

  private async discard(client: string, fileSeq: number, uploadId: string, correlationId: string) {
    await this.inbox.discard(client, fileSeq, uploadId, correlationId).catch((e: Error) => {
      this.logger.warn(`[${correlationId}] staged upload ${uploadId} not discarded: ${e.message}`);
    });
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

  /**
   * A duplicate may be announced again, once per file while it waits for the applier: that covers
   * a crash between store and publish, and a laptop re-sending a file in a loop publishes nothing more.
   */
  private async duplicate(client: string, fileSeq: number, correlationId: string): Promise<UploadResponse> {
    await this.inbox.reannounce(client, fileSeq, correlationId);
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

function isLimit(err: unknown): err is DomainError {
  return err instanceof DomainError && err.code === ErrorCode.UploadLimitExceeded;
}

function seqTaken(client: string, fileSeq: number, correlationId: string): DomainError {
  return new DomainError(
    ErrorCode.FileSeqTaken,
    `The server already holds a different file ${fileSeq} for "${client}"; file seqs are never reused`,
    { fileSeq },
    correlationId,
  );
}
