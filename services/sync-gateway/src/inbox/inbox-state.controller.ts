import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Session, SessionGuard } from '../sessions/session.guard';
import type { SessionClaims } from '../sessions/session-token';
import { InboxStateRepository } from './inbox-state.repository';

/** The laptop's own view of its uploads on the server: what is applied, what waits and why. */
@Controller('v1/inbox')
@ApiTags('inbox')
@ApiBearerAuth('bearer')
@UseGuards(SessionGuard)
export class InboxStateController {
  constructor(private readonly inbox: InboxStateRepository) {}

  @Get()
  state(@Session() session: SessionClaims) {
    return this.inbox.forClient(session.client);
  }
}
