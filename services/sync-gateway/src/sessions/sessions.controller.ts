import { Body, Controller, Delete, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CloseSessionBody, OpenSessionBody } from '../common/agent-bodies.dto';
import { dtoValidation } from '../common/validation';
import { CorrelationId } from '@outpost/server-kit';
import type { Request } from 'express';
import { Session, SessionGuard } from './session.guard';
import type { SessionClaims } from './session-token';
import { SessionsService } from './sessions.service';

@Controller('v1/sessions')
@ApiTags('sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @ApiOperation({ summary: 'Open a sync session with the client secret; answers a session token' })
  open(
    @Body(dtoValidation) body: OpenSessionBody,
    @Req() req: Request,
    @CorrelationId() correlationId: string,
  ) {
    // The peer of the connection: a forwarded-for header is the caller's to forge.
    const address = req.socket.remoteAddress ?? 'unknown';
    return this.sessions.open(body, address, correlationId);
  }

  @Delete('current')
  @ApiOperation({ summary: 'Close the session with the result of the sync' })
  @ApiBearerAuth('bearer')
  @HttpCode(204)
  @UseGuards(SessionGuard)
  async close(
    @Session() session: SessionClaims,
    @Body(dtoValidation) body: CloseSessionBody,
    @CorrelationId() correlationId: string,
  ) {
    await this.sessions.close(session, body, correlationId);
  }
}
