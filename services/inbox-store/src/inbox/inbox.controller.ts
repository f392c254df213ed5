import {
  Body,
  Controller,
  Delete,
  Head,
  HttpCode,
  Param,
  Post,
  Put,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { InternalTokenGuard } from '@outpost/server-kit';
import type { Request, Response } from 'express';
import { InboxService, type PutResult } from './inbox.service';
import {
  parseClient,
  parseCommitRequest,
  parseFileSeq,
  parseSha256,
  parseTxnRange,
} from './dto/inbox-params';

/**
 * Internal byte path for the gateway. `x-dx-validate: pending` stages the bytes only; the caller
 * commits them with POST .../commit once it has validated them, or discards them with DELETE.
 * Only a caller holding the service token is answered.
 */
@Controller('internal/inbox/:client/:fileSeq')
@UseGuards(InternalTokenGuard)
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Put()
  async put(
    @Param('client') client: string,
    @Param('fileSeq') fileSeq: string,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    const pending = req.headers['x-dx-validate'] === 'pending';
    const range = pending
      ? undefined
      : parseTxnRange(req.headers['x-dx-count'], req.headers['x-dx-first-seq'], req.headers['x-dx-last-seq']);
    const result = await this.inbox.put(
      parseClient(client),
      parseFileSeq(fileSeq),
      req,
      parseSha256(req.headers['x-dx-sha256']),
      range,
    );
    send(res, result);
  }

  @Post('commit')
  async commit(
    @Param('client') client: string,
    @Param('fileSeq') fileSeq: string,
    @Body() body: unknown,
    @Res() res: Response,
  ) {
    send(res, await this.inbox.commit(parseClient(client), parseFileSeq(fileSeq), parseCommitRequest(body)));
  }

  @Post('reannounce')
  @HttpCode(200)
  reannounce(@Param('client') client: string, @Param('fileSeq') fileSeq: string) {
    return this.inbox.reannounce(parseClient(client), parseFileSeq(fileSeq));
  }

  @Delete('staged/:uploadId')
  @HttpCode(204)
  async discard(
    @Param('client') client: string,
    @Param('fileSeq') fileSeq: string,
    @Param('uploadId') uploadId: string,
  ) {
    await this.inbox.discardStaged(parseClient(client), parseFileSeq(fileSeq), uploadId);
  }

  @Head()
  async head(@Param('client') client: string, @Param('fileSeq') fileSeq: string, @Res() res: Response) {
    const held = await this.inbox.head(parseClient(client), parseFileSeq(fileSeq));
    if (!held) {
      res.status(404).end();
      return;
    }
    res
      .status(200)
      .set({ 'x-dx-sha256': held.sha256, 'x-dx-size': String(held.size), 'x-dx-object-key': held.objectKey })
      .end();
  }
}

const STATUS: Record<PutResult['status'], number> = { stored: 201, duplicate: 200, staged: 202 };

function send(res: Response, result: PutResult): void {
  res.status(STATUS[result.status]).json(result);
}
