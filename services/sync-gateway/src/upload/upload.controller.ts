import { Controller, Head, Param, Put, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CorrelationId } from '@outpost/server-kit';
import type { Request, Response } from 'express';
import { InboxStoreClient } from '../infra/inbox-store.client';
import { Session, SessionGuard } from '../sessions/session.guard';
import type { SessionClaims } from '../sessions/session-token';
import { UploadService } from './upload.service';
import { parseFileSeqParam, parseSha256 } from '../common/params';

@Controller('v1/upload/:fileSeq')
@ApiTags('upload')
@ApiBearerAuth('bearer')
@UseGuards(SessionGuard)
export class UploadController {
  constructor(
    private readonly uploads: UploadService,
    private readonly inbox: InboxStoreClient,
  ) {}

  @Put()
  @ApiOperation({ summary: 'Upload one DX file (the body is the file; x-dx-sha256 its checksum)' })
  async upload(
    @Session() session: SessionClaims,
    @Param('fileSeq') fileSeq: string,
    @Req() req: Request,
    @Res() res: Response,
    @CorrelationId() correlationId: string,
  ) {
    const sha256 = parseSha256(req.headers['x-dx-sha256']);
    const declared = req.headers['content-length'];
    const result = await this.uploads
      .upload(
        session.client,
        parseFileSeqParam(fileSeq),
        sha256,
        req,
        declared === undefined ? undefined : Number(declared),
        correlationId,
      )
      .catch((err: unknown) => {
        // A refusal before the whole body arrived closes the connection: the rest is not read.
        if (!req.complete) res.setHeader('connection', 'close');
        throw err;
      });
    res.status(result.status === 'stored' ? 201 : 200).json(result);
  }

  @Head()
  @ApiOperation({ summary: 'Whether the server holds this file, and its sha256 (x-dx-sha256)' })
  async head(
    @Session() session: SessionClaims,
    @Param('fileSeq') fileSeq: string,
    @Res() res: Response,
    @CorrelationId() correlationId: string,
  ) {
    const held = await this.inbox.head(session.client, parseFileSeqParam(fileSeq), correlationId);
    if (held) res.status(200).set('x-dx-sha256', held.sha256).end();
    else res.status(404).end();
  }
}
