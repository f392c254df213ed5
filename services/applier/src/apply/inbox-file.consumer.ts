import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload, RmqContext } from '@nestjs/microservices';
import type { Channel, Message } from 'amqplib';
import { isValidClientName, patterns, type DxFileReceivedEvent } from '@outpost/contracts';
import { APPLIER_CONFIG, type ApplierConfig } from '../config/applier.config';
import { InboxApplyService } from './inbox-apply.service';

/**
 * `dx.file.received` is a wake-up for its client. The message is acked once the client's files
 * are applied (or one is quarantined); a transient failure requeues it after a growing delay.
 */
@Controller()
export class InboxFileConsumer {
  private readonly logger = new Logger('InboxFileConsumer');
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly service: InboxApplyService,
    @Inject(APPLIER_CONFIG) private readonly config: ApplierConfig,
  ) {}

  @EventPattern(patterns.dxFileReceived)
  async onFileReceived(@Payload() event: DxFileReceivedEvent, @Ctx() ctx: RmqContext): Promise<void> {
    const channel = ctx.getChannelRef() as Channel;
    const message = ctx.getMessage() as Message;
    if (!isValidClientName(event?.client)) {
      this.logger.warn(`dropped a dx.file.received without a valid client: ${JSON.stringify(event)}`);
      channel.ack(message);
      return;
    }
    try {
      await this.service.wake(event.client);
      this.failures.delete(event.client);
      channel.ack(message);
    } catch (err) {
      const attempt = (this.failures.get(event.client) ?? 0) + 1;
      this.failures.set(event.client, attempt);
      const wait = Math.min(this.config.retryMaxMs, 500 * 2 ** (attempt - 1));
      this.logger.error(
        `applying ${event.client} failed (attempt ${attempt}, retry in ${wait} ms): ${(err as Error).message}`,
      );
      await new Promise((resolve) => setTimeout(resolve, wait));
      channel.nack(message, false, true);
    }
  }
}
