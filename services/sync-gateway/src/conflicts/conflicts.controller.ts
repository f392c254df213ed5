import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Session, SessionGuard } from '../sessions/session.guard';
import type { SessionClaims } from '../sessions/session-token';
import { ConflictsRepository } from './conflicts.repository';
import { RefusalsRepository } from './refusals.repository';

@Controller('v1')
@ApiTags('conflicts')
@ApiBearerAuth('bearer')
@UseGuards(SessionGuard)
export class ConflictsController {
  constructor(
    private readonly conflicts: ConflictsRepository,
    private readonly refusals: RefusalsRepository,
  ) {}

  @Get('conflicts')
  list(@Session() session: SessionClaims) {
    return this.conflicts.listForClient(session.client);
  }

  @Get('refusals')
  listRefusals(@Session() session: SessionClaims) {
    return this.refusals.list(session.client);
  }
}
