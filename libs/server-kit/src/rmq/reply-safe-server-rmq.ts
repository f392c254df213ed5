import { Logger } from '@nestjs/common';
import { ServerRMQ, type RmqContext } from '@nestjs/microservices';

/**
 * Nest's RabbitMQ server, except that a reply the broker cannot take is logged, not thrown.
 *
 * Nest sends an RPC reply with the channel's `sendToQueue` and drops the promise it returns; when
 * the broker connection closes while a reply waits for its confirm, that promise rejects with
 * "channel closed", nobody handles it, and Node ends the process (the fault suite saw the
 * client-registry exit this way on a broker cut). The caller's RPC times out and is retried, as
 * for any lost reply, so logging is all there is to do.
 */
export class ReplySafeServerRmq extends ServerRMQ {
  private readonly replyLogger = new Logger('RmqReply');

  override sendMessage<T = unknown>(
    message: T,
    replyTo: string,
    correlationId: string,
    context: RmqContext,
  ): void {
    const outgoing = this.serializer.serialize(message as never) as { options?: Record<string, unknown> };
    const options = outgoing.options;
    delete outgoing.options;
    const buffer = Buffer.from(JSON.stringify(outgoing));
    this.onProcessingEndHook?.(this.transportId, context);
    const sent: unknown = this.channel?.sendToQueue(replyTo, buffer, { correlationId, ...options });
    if (sent instanceof Promise) {
      sent.catch((err: Error) =>
        this.replyLogger.warn(`reply ${correlationId} to ${replyTo} was lost: ${err.message}`),
      );
    }
  }
}
