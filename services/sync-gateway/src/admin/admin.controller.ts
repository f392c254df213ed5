import { Body, Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CorrelationId } from '@outpost/server-kit';
import { parseFileSeqParam } from '../common/params';
import { CaptureStatusRepository } from '../capture/capture-status.repository';
import { dtoValidation } from '../common/validation';
import { ConflictsRepository } from '../conflicts/conflicts.repository';
import { RefusalsRepository } from '../conflicts/refusals.repository';
import { InboxStoreClient } from '../infra/inbox-store.client';
import { RegistryClient } from '../infra/registry.client';
import { AuthAuditRepository } from '../sessions/auth-audit.repository';
import { LagRepository } from '../lag/lag.repository';
import { AdminTokenGuard } from './admin-token.guard';
import { AddClientDto, RejectFileDto } from './dto/admin.dto';

/** The administrators' API; the registry and the inbox-store validate what they are asked. */
@Controller('admin')
@UseGuards(AdminTokenGuard)
@ApiTags('admin')
@ApiBearerAuth('bearer')
export class AdminController {
  constructor(
    private readonly registry: RegistryClient,
    private readonly inbox: InboxStoreClient,
    private readonly conflicts: ConflictsRepository,
    private readonly capture: CaptureStatusRepository,
    private readonly refusals: RefusalsRepository,
    private readonly lag: LagRepository,
    private readonly authAudit: AuthAuditRepository,
  ) {}

  /** The change capture's slot and lag behind the server's WAL. */
  @Get('capture')
  captureStatus() {
    return this.capture.status();
  }

  @Get('clients')
  @ApiOperation({ summary: 'List clients with status and last sync' })
  listClients(@CorrelationId() cid: string) {
    return this.registry.list(cid);
  }

  @Post('clients')
  @ApiOperation({ summary: 'Register a client; the answer carries its secret, shown only this once' })
  addClient(@Body(dtoValidation) body: AddClientDto, @CorrelationId() cid: string) {
    return this.registry.add(body.name, body.userLogin, cid);
  }

  @Post('clients/:name/deactivate')
  @ApiOperation({ summary: 'Stop a client from synchronizing' })
  deactivate(@Param('name') name: string, @CorrelationId() cid: string) {
    return this.registry.deactivate(name, cid);
  }

  @Post('clients/:name/reactivate')
  @ApiOperation({ summary: 'Let a deactivated client synchronize again, with the secret it holds' })
  reactivate(@Param('name') name: string, @CorrelationId() cid: string) {
    return this.registry.reactivate(name, cid);
  }

  @Post('clients/:name/rotate-secret')
  @ApiOperation({ summary: 'Issue a new secret (shown once); the old one stops working' })
  rotateSecret(@Param('name') name: string, @CorrelationId() cid: string) {
    return this.registry.rotateSecret(name, cid);
  }

  @Post('clients/:name/reextract')
  @ApiOperation({ summary: 'Rebuild the client database from the server on its next sync' })
  reextract(@Param('name') name: string, @CorrelationId() cid: string) {
    return this.registry.reextract(name, cid);
  }

  @Get('clients/:name/inbox')
  @ApiOperation({ summary: "A client's server inbox: received, applied, waiting, quarantined, rejected" })
  inboxList(@Param('name') name: string, @CorrelationId() cid: string) {
    return this.inbox.list(name, cid);
  }

  @Post('clients/:name/inbox/:fileSeq/retry')
  @ApiOperation({ summary: 'Put a quarantined file back in line to be applied' })
  retry(@Param('name') name: string, @Param('fileSeq') fileSeq: string, @CorrelationId() cid: string) {
    return this.inbox.retry(name, parseFileSeqParam(fileSeq), cid);
  }

  @Post('clients/:name/inbox/:fileSeq/reject')
  @ApiOperation({
    summary: "Skip a quarantined file: its changes are refused and the client's later files apply",
  })
  reject(
    @Param('name') name: string,
    @Param('fileSeq') fileSeq: string,
    @Body(dtoValidation) body: RejectFileDto,
    @CorrelationId() cid: string,
  ) {
    return this.inbox.reject(name, parseFileSeqParam(fileSeq), body.reason, cid);
  }

  @Get('lag')
  @ApiOperation({ summary: 'Per client: files waiting both ways, last sync, apply and routing lag' })
  @ApiQuery({ name: 'client', required: false })
  listLag(@Query('client') client?: string) {
    return this.lag.list(client || undefined);
  }

  @Get('conflicts')
  @ApiOperation({ summary: 'Conflicts resolved on the server, newest first, with both values' })
  @ApiQuery({ name: 'client', required: false })
  listConflicts(@Query('client') client?: string) {
    return this.conflicts.list(client || undefined);
  }

  @Get('refusals')
  listRefusals(@Query('client') client?: string) {
    return this.refusals.list(client || undefined);
  }

  @Get('auth-audit')
  @ApiOperation({ summary: 'Failed and rate-limited session opens, newest first' })
  @ApiQuery({ name: 'client', required: false })
  listAuthAudit(@Query('client') client?: string) {
    return this.authAudit.list(client || undefined);
  }
}
