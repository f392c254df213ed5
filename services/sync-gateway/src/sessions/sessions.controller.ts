import { Body, Controller, Delete, HttpCode, Post, UseGuards } from '@nestjs/common';
import { CorrelationId } from '@outpost/server-kit';
import { parseCloseSession, parseOpenSession } from './dto/open-session.dto';
import { Session, SessionGuard } from './session.guard';
import type { SessionClaims } from './session-token';
import { SessionsService } from './sessions.service';

@Controller('v1/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  open(@Body() body: unknown, @CorrelationId() correlationId: string) {
    return this.sessions.open(parseOpenSession(body), correlationId);
  }

  @Delete('current')
  @HttpCode(204)
  @UseGuards(SessionGuard)
  async close(
    @Session() session: SessionClaims,
    @Body() body: unknown,
    @CorrelationId() correlationId: string,
  ) {
    await this.sessions.close(session, parseCloseSession(body), correlationId);
  }
}
