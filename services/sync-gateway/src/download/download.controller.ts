import { Body, Controller, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DownloadAckBody } from '../common/agent-bodies.dto';
import { dtoValidation } from '../common/validation';
import { CorrelationId } from '@outpost/server-kit';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream';
import { parseFileSeqParam } from '../common/params';
import { Session, SessionGuard } from '../sessions/session.guard';
import type { SessionClaims } from '../sessions/session-token';
import { DownloadService } from './download.service';

const PASSED_HEADERS = ['content-type', 'content-length', 'content-range', 'accept-ranges'];

@Controller('v1/download')
@ApiTags('download')
@ApiBearerAuth('bearer')
@UseGuards(SessionGuard)
export class DownloadController {
  constructor(private readonly downloads: DownloadService) {}

  @Get()
  @ApiOperation({ summary: 'The files waiting for this client, in order' })
  list(@Session() session: SessionClaims) {
    return this.downloads.list(session.client);
  }

  @Get(':fileSeq')
  @ApiOperation({ summary: 'One file (Range requests resume a partial download)' })
  async get(
    @Session() session: SessionClaims,
    @Param('fileSeq') fileSeq: string,
    @Req() req: Request,
    @Res() res: Response,
    @CorrelationId() correlationId: string,
  ) {
    const upstream = await this.downloads.open(
      session.client,
      parseFileSeqParam(fileSeq),
      req.headers.range,
      correlationId,
    );
    res.status(upstream.statusCode ?? 502);
    for (const name of PASSED_HEADERS) {
      const value = upstream.headers[name];
      if (value !== undefined) res.setHeader(name, value);
    }
    pipeline(upstream, res, () => undefined);
  }

  /** A laptop that holds no extract of the current epoch (set up again for this client) asks for one. */
  @Post('extract')
  @HttpCode(202)
  async extract(@Session() session: SessionClaims, @CorrelationId() correlationId: string) {
    await this.downloads.requestExtract(session.client, correlationId);
  }

  @Post('ack')
  @ApiOperation({ summary: 'Acknowledge every file up to one, applied' })
  @HttpCode(204)
  async ack(@Session() session: SessionClaims, @Body(dtoValidation) body: DownloadAckBody) {
    await this.downloads.ack(session.client, { epoch: body.epoch, upToFileSeq: body.upToFileSeq });
  }
}
