import { Controller, UseFilters, UseGuards } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  patterns,
  type InboxListMessage,
  type InboxRejectMessage,
  type InboxRetryMessage,
} from '@outpost/contracts';
import { RpcAuthGuard, RpcErrorFilter } from '@outpost/server-kit';
import { InboxService } from './inbox.service';
import { parseClient, parseFileSeq, parseRejectReason } from './dto/inbox-params';

/** RPC errors leave through the one RMQ mapper (set per controller: hybrid apps do not pass global filters on); callers need the service token. */
@Controller()
@UseFilters(RpcErrorFilter)
@UseGuards(RpcAuthGuard)
export class InboxRpcController {
  constructor(private readonly inbox: InboxService) {}

  @MessagePattern(patterns.inboxList)
  list(@Payload() msg: InboxListMessage) {
    return this.inbox.list(parseClient(msg.client));
  }

  @MessagePattern(patterns.inboxRetry)
  retry(@Payload() msg: InboxRetryMessage) {
    return this.inbox.retry(parseClient(msg.client), parseFileSeq(msg.fileSeq));
  }

  @MessagePattern(patterns.inboxReject)
  reject(@Payload() msg: InboxRejectMessage) {
    return this.inbox.reject(
      parseClient(msg.client),
      parseFileSeq(msg.fileSeq),
      parseRejectReason(msg.reason),
    );
  }
}
