import { Body, Controller, Get, HttpCode, Param, Post, Put, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CorrelationId } from '@outpost/server-kit';
import type { Request, Response } from 'express';
import { parseByteOffsetParam, parseFileSeqParam, parseSha256 } from '../common/params';
import { UploadCompleteBody } from '../common/agent-bodies.dto';
import { dtoValidation } from '../common/validation';
import { Session, SessionGuard } from '../sessions/session.guard';
import type { SessionClaims } from '../sessions/session-token';
import { UploadPartsService } from './upload-parts.service';

/** Resumable uploads of large files, in parts (UploadPartsService). */
@Controller('v1/upload/:fileSeq')
@ApiTags('upload')
@ApiBearerAuth('bearer')
@UseGuards(SessionGuard)
export class UploadPartsController {
  constructor(private readonly parts: UploadPartsService) {}

  @Get('parts')
  @ApiOperation({
    summary: 'How many of the file’s first bytes the server holds as parts (x-dx-sha256: the whole file’s)',
  })
  received(
    @Session() session: SessionClaims,
    @Param('fileSeq') fileSeq: string,
    @Req() req: Request,
    @CorrelationId() correlationId: string,
  ) {
    return this.parts.received(
      session.client,
      parseFileSeqParam(fileSeq),
      parseSha256(req.headers['x-dx-sha256']),
      correlationId,
    );
  }

  @Put('parts/:offset')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'One part of a large file, starting at byte :offset where the held bytes end (x-dx-sha256: the whole file’s)',
  })
  async put(
    @Session() session: SessionClaims,
    @Param('fileSeq') fileSeq: string,
    @Param('offset') offset: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @CorrelationId() correlationId: string,
  ) {
    const declared = req.headers['content-length'];
    return this.parts
      .putPart(
        session.client,
        parseFileSeqParam(fileSeq),
        parseSha256(req.headers['x-dx-sha256']),
        parseByteOffsetParam(offset),
        req,
        declared === undefined ? undefined : Number(declared),
        correlationId,
      )
      .catch((err: unknown) => {
        // A refusal before the whole part arrived closes the connection: the rest is not read.
        if (!req.complete) res.setHeader('connection', 'close');
        throw err;
      });
  }

  @Post('complete')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Ends an upload in parts: the held parts go through the checks of a single upload (201 stored, 200 duplicate)',
  })
  async complete(
    @Session() session: SessionClaims,
    @Param('fileSeq') fileSeq: string,
    @Body(dtoValidation) body: UploadCompleteBody,
    @Res({ passthrough: true }) res: Response,
    @CorrelationId() correlationId: string,
  ) {
    const sha256 = body.sha256.toLowerCase();
    const size = body.size;
    const result = await this.parts.complete(
      session.client,
      parseFileSeqParam(fileSeq),
      sha256,
      size,
      correlationId,
    );
    res.status(result.status === 'stored' ? 201 : 200);
    return result;
  }
}
