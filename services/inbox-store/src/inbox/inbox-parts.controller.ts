import { Controller, Delete, Get, HttpCode, Param, Put, Req, Res, UseGuards } from '@nestjs/common';
import { InternalTokenGuard } from '@outpost/server-kit';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream';
import { InboxPartsService } from './inbox-parts.service';
import { parseByteCount, parseClient, parseFileSeq, parseSha256 } from './dto/inbox-params';

/**
 * Internal byte path for the parts of a resumable upload (the gateway's only caller):
 * `GET :sha256` how many bytes are held, `PUT :sha256/:offset` one part (x-dx-part-bytes its
 * length), `GET :sha256/content` the held parts as one stream, `DELETE` every part of the file.
 */
@Controller('internal/inbox/:client/:fileSeq/parts')
@UseGuards(InternalTokenGuard)
export class InboxPartsController {
  constructor(private readonly parts: InboxPartsService) {}

  @Get(':sha256')
  async received(
    @Param('client') client: string,
    @Param('fileSeq') fileSeq: string,
    @Param('sha256') sha256: string,
  ) {
    return {
      receivedBytes: await this.parts.received(
        parseClient(client),
        parseFileSeq(fileSeq),
        parseSha256(sha256, 'sha256'),
      ),
    };
  }

  @Put(':sha256/:offset')
  @HttpCode(200)
  async put(
    @Param('client') client: string,
    @Param('fileSeq') fileSeq: string,
    @Param('sha256') sha256: string,
    @Param('offset') offset: string,
    @Req() req: Request,
  ) {
    const receivedBytes = await this.parts.putPart(
      parseClient(client),
      parseFileSeq(fileSeq),
      parseSha256(sha256, 'sha256'),
      parseByteCount(offset, 'offset'),
      parseByteCount(req.headers['x-dx-part-bytes'], 'x-dx-part-bytes'),
      req,
    );
    return { receivedBytes };
  }

  @Get(':sha256/content')
  async content(
    @Param('client') client: string,
    @Param('fileSeq') fileSeq: string,
    @Param('sha256') sha256: string,
    @Res() res: Response,
  ) {
    const { size, body } = await this.parts.content(
      parseClient(client),
      parseFileSeq(fileSeq),
      parseSha256(sha256, 'sha256'),
    );
    res.status(200).set({ 'content-type': 'application/octet-stream', 'content-length': String(size) });
    // A part that fails to read cuts the response short: the gateway sees fewer bytes than announced.
    pipeline(body, res, () => undefined);
  }

  @Delete()
  @HttpCode(204)
  async remove(@Param('client') client: string, @Param('fileSeq') fileSeq: string) {
    await this.parts.removeParts(parseClient(client), parseFileSeq(fileSeq));
  }
}
