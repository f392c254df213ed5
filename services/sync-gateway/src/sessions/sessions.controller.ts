import { Body, Controller, Delete, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CloseSessionBody, OpenSessionBody } from '../openapi/agent-bodies';
import { CorrelationId } from '@outpost/server-kit';
import { parseCloseSession, parseOpenSession } from './dto/open-session.dto';
import { Session, SessionGuard } from './session.guard';
import type { SessionClaims } from './session-token';
import { SessionsService } from './sessions.service';

@Controller('v1/sessions')
@ApiTags('sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @ApiOperation({ summary: 'Open a sync session with the client secret; answers a session token' })
  @ApiBody({ type: OpenSessionBody })
  open(@Body() body: unknown, @CorrelationId() correlationId: string) {
    return this.sessions.open(parseOpenSession(body), correlationId);
  }

  @Delete('current')
  @ApiOperation({ summary: 'Close the session with the result of the sync' })
  @ApiBody({ type: CloseSessionBody })
  @ApiBearerAuth('bearer')
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
