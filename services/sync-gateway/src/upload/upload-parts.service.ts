import { Inject, Injectable, Logger } from '@nestjs/common';
import { ErrorCode, type UploadPartsResponse, type UploadResponse } from '@outpost/contracts';
import { DomainError, syncMetrics } from '@outpost/server-kit';
import { PassThrough, type Readable } from 'node:stream';
import type { GatewayConfig } from '../config';
import { InboxStoreClient } from '../infra/inbox-store.client';
import { GATEWAY_CONFIG } from '../infra/infra.tokens';
import { guardBody, tooLarge } from './body-guard';
import { UploadService } from './upload.service';

/**
 * Resumable uploads: a large file arrives as parts the inbox-store keeps across requests, each
 * accepted only where the held bytes end, so a cut connection costs the part in flight and not
 * the file. Completing reads the parts back as one stream and gives it to the single-upload path,
 * so a file in parts meets exactly the checks, the commit and the announcement of a file in one
 * PUT, and the inbox's exactly-once rules hold the same way.
 */
@Injectable()
export class UploadPartsService {
  private readonly logger = new Logger(UploadPartsService.name);

  constructor(
    private readonly uploads: UploadService,
    private readonly inbox: InboxStoreClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async received(
    client: string,
    fileSeq: number,
    sha256: string,
    correlationId: string,
  ): Promise<UploadPartsResponse> {
    const receivedBytes = await this.inbox.partsReceived(client, fileSeq, sha256, correlationId);
    return { fileSeq, sha256, receivedBytes };
  }

  async putPart(
    client: string,
    fileSeq: number,
    sha256: string,
    offset: number,
    body: Readable,
    declaredBytes: number | undefined,
    correlationId: string,
  ): Promise<UploadPartsResponse> {
    // The length is what the inbox-store holds the part to: a body cut short is never kept as a part.
    if (declaredBytes === undefined || !Number.isSafeInteger(declaredBytes) || declaredBytes < 1) {
      throw new DomainError(
        ErrorCode.ValidationFailed,
        'A part needs a content-length of 1 byte or more',
        undefined,
        correlationId,
      );
    }
    const maxBytes = this.config.uploadMaxBytes;
    if (offset + declaredBytes > maxBytes) throw tooLarge(fileSeq, maxBytes, correlationId);

    const toStore = new PassThrough();
    let cutBy: DomainError | undefined;
    const cut = (reason: DomainError) => {
      cutBy ??= reason;
      body.unpipe(toStore);
      toStore.destroy(cutBy);
    };
    const interrupted = () =>
      cut(
        new DomainError(
          ErrorCode.ValidationFailed,
          'The part was interrupted before it all arrived; ask which bytes the server holds and go on from there',
          undefined,
          correlationId,
        ),
      );
    body.once('aborted', interrupted);
    body.once('error', interrupted);
    const unguard = guardBody(
      body,
      { maxBytes: maxBytes - offset, idleTimeoutMs: this.config.uploadIdleTimeoutMs },
      fileSeq,
      correlationId,
      cut,
    );
    body.pipe(toStore);
    const stored = await this.inbox
      .putPart(client, fileSeq, sha256, offset, declaredBytes, toStore, correlationId)
      .then(
        (receivedBytes) => ({ ok: true as const, receivedBytes }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    unguard();
    if (cutBy) throw cutBy;
    if (!stored.ok) throw stored.error;
    syncMetrics.uploadPartsStored.inc();
    syncMetrics.uploadPartBytes.inc(declaredBytes);
    return { fileSeq, sha256, receivedBytes: stored.receivedBytes };
  }

  async complete(
    client: string,
    fileSeq: number,
    sha256: string,
    size: number,
    correlationId: string,
  ): Promise<UploadResponse> {
    if (size > this.config.uploadMaxBytes) throw tooLarge(fileSeq, this.config.uploadMaxBytes, correlationId);
    const receivedBytes = await this.inbox.partsReceived(client, fileSeq, sha256, correlationId);
    if (receivedBytes !== size) {
      throw new DomainError(
        ErrorCode.UploadOffsetMismatch,
        `The server holds ${receivedBytes} of the ${size} bytes of file ${fileSeq}; send the rest before completing it`,
        { receivedBytes },
        correlationId,
      );
    }
    const content = await this.inbox.openParts(client, fileSeq, sha256, correlationId);
    let result: UploadResponse;
    try {
      result = await this.uploads.upload(client, fileSeq, sha256, content, size, correlationId);
    } catch (err) {
      // Parts that make a refused file would be refused again: drop them so the agent starts over.
      if (refusesTheBytes(err)) await this.removeParts(client, fileSeq, correlationId);
      throw err;
    } finally {
      // A refusal before the stream was read must not leave the inbox-store's response open.
      content.destroy();
    }
    await this.removeParts(client, fileSeq, correlationId);
    return result;
  }

  /** Cleanup only: parts left behind are never read again once the file is held. */
  private async removeParts(client: string, fileSeq: number, correlationId: string): Promise<void> {
    await this.inbox.removeParts(client, fileSeq, correlationId).catch((e: Error) => {
      this.logger.warn(`[${correlationId}] parts of file ${fileSeq} of ${client} not removed: ${e.message}`);
    });
  }
}

/**
 * Failures that say nothing about the held bytes: a dependency down, a stalled or interrupted
 * internal read, an internal error. The parts stay, and the next attempt completes without
 * sending them again; any other refusal is about the bytes themselves.
 */
const KEEPS_PARTS = new Set<ErrorCode>([
  ErrorCode.DependencyUnavailable,
  ErrorCode.Internal,
  ErrorCode.UploadStalled,
  ErrorCode.ValidationFailed,
]);

function refusesTheBytes(err: unknown): boolean {
  return err instanceof DomainError && !KEEPS_PARTS.has(err.code);
}
