import { Controller, Get, Param, Req, Res, UseGuards } from '@nestjs/common';
import { ErrorCode } from '@outpost/contracts';
import { DomainError, InternalTokenGuard } from '@outpost/server-kit';
import { ObjectStore, outboxKey } from '@outpost/storage';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream';
import { parseClient, parseCount, parseFileSeq } from '../inbox/dto/inbox-params';
import { parseByteRange } from './byte-range';

/** Streams the router's outbound files to the gateway, resumable with a Range header. */
@Controller('internal/outbox/:client/:epoch/:fileSeq')
@UseGuards(InternalTokenGuard)
export class OutboxController {
  constructor(private readonly store: ObjectStore) {}

  @Get()
  async get(
    @Param('client') client: string,
    @Param('epoch') epoch: string,
    @Param('fileSeq') fileSeq: string,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    const key = outboxKey(parseClient(client), parseCount(epoch, 'epoch', 0), parseFileSeq(fileSeq));
    const stat = await this.store.stat(this.store.outboxBucket, key);
    if (!stat)
      throw new DomainError(
        ErrorCode.FileNotFound,
        `No outbound file ${fileSeq} of epoch ${epoch} for "${client}"`,
      );
    let range;
    try {
      range = parseByteRange(req.headers.range, stat.size);
    } catch (err) {
      if (err instanceof DomainError && err.details?.rangeNotSatisfiable) {
        res.status(416).set('content-range', `bytes */${stat.size}`).end();
        return;
      }
      throw err;
    }
    const body = await this.store.getStream(this.store.outboxBucket, key, range ?? undefined);
    res.set({ 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' });
    if (range) {
      res.status(206).set({
        'content-range': `bytes ${range.start}-${range.end}/${stat.size}`,
        'content-length': String(range.end - range.start + 1),
      });
    } else {
      res.status(200).set('content-length', String(stat.size));
    }
    pipeline(body, res, () => undefined);
  }
}
