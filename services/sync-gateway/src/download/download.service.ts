import { Injectable } from '@nestjs/common';
import { ErrorCode, patterns, type DownloadAckRequest, type DownloadListResponse } from '@outpost/contracts';
import { DomainError, EventPublisher } from '@outpost/server-kit';
import type { IncomingMessage } from 'node:http';
import { InboxStoreClient } from '../infra/inbox-store.client';
import { RegistryClient } from '../infra/registry.client';
import { OutboundRepository } from './outbound.repository';

@Injectable()
export class DownloadService {
  constructor(
    private readonly outbound: OutboundRepository,
    private readonly inbox: InboxStoreClient,
    private readonly publisher: EventPublisher,
    private readonly registry: RegistryClient,
  ) {}

  /** The same re-extract an administrator can ask for: unsent local changes of the laptop survive it. */
  async requestExtract(client: string, correlationId: string): Promise<void> {
    await this.registry.reextract(client, correlationId);
  }

  /**
   * Pending files of the current epoch only (older epochs were superseded by an extract). While an
   * extract is pending the router is kicked, so the agent's next poll finds it sooner.
   */
  async list(client: string): Promise<DownloadListResponse> {
    const { epoch, extractPending } = await this.outbound.routeEpoch(client);
    if (extractPending) {
      await this.publisher.publish('routerKick', patterns.routerKick, { reason: 'extract-pending', client });
    }
    const files = epoch === null ? [] : await this.outbound.pending(client, epoch);
    return { epoch: epoch ?? 0, files, extractPending };
  }

  async open(
    client: string,
    fileSeq: number,
    range: string | undefined,
    correlationId: string,
  ): Promise<IncomingMessage> {
    const { epoch } = await this.outbound.routeEpoch(client);
    const file = epoch === null ? null : await this.outbound.find(client, epoch, fileSeq);
    if (epoch === null || !file) {
      throw new DomainError(
        ErrorCode.FileNotFound,
        `No outbound file ${fileSeq} in the current epoch of "${client}"; list pending files with GET /v1/download`,
      );
    }
    return this.inbox.openOutbound(client, epoch, fileSeq, range, correlationId);
  }

  async ack(client: string, req: DownloadAckRequest): Promise<void> {
    const { epoch } = await this.outbound.routeEpoch(client);
    if (epoch !== req.epoch) {
      throw new DomainError(
        ErrorCode.EpochMismatch,
        `Ack for epoch ${req.epoch}, but the current epoch of "${client}" is ${epoch ?? 0}: a re-extract happened; list again`,
        { currentEpoch: epoch ?? 0 },
      );
    }
    await this.outbound.ack(client, req.epoch, req.upToFileSeq);
  }
}
