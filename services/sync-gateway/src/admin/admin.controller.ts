import { Body, Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import type { AddClientRequest, RejectFileRequest } from '@outpost/contracts';
import { CorrelationId } from '@outpost/server-kit';
import { parseFileSeqParam } from '../common/params';
import { CaptureStatusRepository } from '../capture/capture-status.repository';
import { ConflictsRepository } from '../conflicts/conflicts.repository';
import { RefusalsRepository } from '../conflicts/refusals.repository';
import { InboxStoreClient } from '../infra/inbox-store.client';
import { RegistryClient } from '../infra/registry.client';
import { LagRepository } from '../lag/lag.repository';
import { AdminTokenGuard } from './admin-token.guard';

/** The administrators' API; the registry and the inbox-store validate what they are asked. */
@Controller('admin')
@UseGuards(AdminTokenGuard)
export class AdminController {
  constructor(
    private readonly registry: RegistryClient,
    private readonly inbox: InboxStoreClient,
    private readonly conflicts: ConflictsRepository,
    private readonly capture: CaptureStatusRepository,
    private readonly refusals: RefusalsRepository,
    private readonly lag: LagRepository,
  ) {}

  /** The change capture's slot and lag behind the server's WAL. */
  @Get('capture')
  captureStatus() {
    return this.capture.status();
  }

  @Get('clients')
  listClients(@CorrelationId() cid: string) {
    return this.registry.list(cid);
  }

  @Post('clients')
  addClient(@Body() body: Partial<AddClientRequest> | undefined, @CorrelationId() cid: string) {
    return this.registry.add(String(body?.name ?? ''), String(body?.userLogin ?? ''), cid);
  }

  @Post('clients/:name/deactivate')
  deactivate(@Param('name') name: string, @CorrelationId() cid: string) {
    return this.registry.deactivate(name, cid);
  }

  @Post('clients/:name/reactivate')
  reactivate(@Param('name') name: string, @CorrelationId() cid: string) {
    return this.registry.reactivate(name, cid);
  }

  @Post('clients/:name/rotate-secret')
  rotateSecret(@Param('name') name: string, @CorrelationId() cid: string) {
    return this.registry.rotateSecret(name, cid);
  }

  @Post('clients/:name/reextract')
  reextract(@Param('name') name: string, @CorrelationId() cid: string) {
    return this.registry.reextract(name, cid);
  }

  @Get('clients/:name/inbox')
  inboxList(@Param('name') name: string, @CorrelationId() cid: string) {
    return this.inbox.list(name, cid);
  }

  @Post('clients/:name/inbox/:fileSeq/retry')
  retry(@Param('name') name: string, @Param('fileSeq') fileSeq: string, @CorrelationId() cid: string) {
    return this.inbox.retry(name, parseFileSeqParam(fileSeq), cid);
  }

  @Post('clients/:name/inbox/:fileSeq/reject')
  reject(
    @Param('name') name: string,
    @Param('fileSeq') fileSeq: string,
    @Body() body: Partial<RejectFileRequest> | undefined,
    @CorrelationId() cid: string,
  ) {
    return this.inbox.reject(name, parseFileSeqParam(fileSeq), String(body?.reason ?? ''), cid);
  }

  @Get('lag')
  listLag(@Query('client') client?: string) {
    return this.lag.list(client || undefined);
  }

  @Get('conflicts')
  listConflicts(@Query('client') client?: string) {
    return this.conflicts.list(client || undefined);
  }

  @Get('refusals')
  listRefusals(@Query('client') client?: string) {
    return this.refusals.list(client || undefined);
  }
}
