import { Controller, Get, UseGuards } from '@nestjs/common';
import { Session, SessionGuard } from '../sessions/session.guard';
import type { SessionClaims } from '../sessions/session-token';
import { ConflictsRepository } from './conflicts.repository';

@Controller('v1/conflicts')
@UseGuards(SessionGuard)
export class ConflictsController {
  constructor(private readonly conflicts: ConflictsRepository) {}

  @Get()
  list(@Session() session: SessionClaims) {
    return this.conflicts.list(session.client);
  }
}
