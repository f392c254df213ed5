import { Logger } from '@nestjs/common';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { CORRELATION_HEADER, ErrorCode, queueName, type QueueKey } from '@outpost/contracts';
import { DomainError } from '../errors/domain-error';
import { currentCorrelationId } from '../logging/correlation-context';
import { QUEUE_OPTIONS } from './rmq-options';

/**
 * Publishes NestJS-compatible events (`{pattern, data}` JSON, no id, so a Nest RMQ consumer with
 * @EventPattern receives them) as persistent messages on durable queues over a confirm channel:
 * publish() resolves only once the broker has taken responsibility for the message. The
 * connection is opened lazily and reopened after a failure, so a broker restart costs one error.
 */
export class EventPublisher {
  private readonly logger = new Logger('EventPublisher');
  private connecting: Promise<{ conn: ChannelModel; channel: ConfirmChannel }> | null = null;
  private readonly asserted = new Set<string>();

  constructor(
    private readonly amqpUrl: string,
    private readonly prefix: string,
  ) {}

  async publish(key: QueueKey, pattern: string, data: unknown): Promise<void> {
    const queue = queueName(this.prefix, key);
    try {
      const { channel } = await this.open();
      if (!this.asserted.has(queue)) {
        await channel.assertQueue(queue, QUEUE_OPTIONS);
        this.asserted.add(queue);
      }
      const body = Buffer.from(JSON.stringify({ pattern, data }));
      await new Promise<void>((resolve, reject) => {
        // The correlation id of the work that published it, so the consumer's logs carry it too.
        const correlationId = currentCorrelationId();
        const headers = correlationId ? { [CORRELATION_HEADER]: correlationId } : undefined;
        channel.sendToQueue(
          queue,
          body,
          { persistent: true, contentType: 'application/json', headers },
          (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
        );
      });
    } catch (err) {
      this.reset();
      throw new DomainError(
        ErrorCode.DependencyUnavailable,
        `Could not publish ${pattern} to queue ${queue}: ${(err as Error).message}. Is RabbitMQ reachable at AMQP_URL?`,
      );
    }
  }

  /** Opens the connection now, so a service can fail its start instead of its first request. */
  async connect(): Promise<void> {
    await this.open();
  }

  async close(): Promise<void> {
    const pending = this.connecting;
    this.connecting = null;
    if (!pending) return;
    try {
      const { conn } = await pending;
      await conn.close();
    } catch {
      // Already closed or never opened: nothing left to release.
    }
  }

  private open(): Promise<{ conn: ChannelModel; channel: ConfirmChannel }> {
    if (!this.connecting) {
      const attempt = this.openOnce();
      this.connecting = attempt;
      attempt.catch(() => {
        if (this.connecting === attempt) this.connecting = null;
      });
    }
    return this.connecting;
  }

  private async openOnce(): Promise<{ conn: ChannelModel; channel: ConfirmChannel }> {
    const conn = await connect(this.amqpUrl);
    conn.on('error', (err: Error) => this.logger.warn(`AMQP connection error: ${err.message}`));
    conn.on('close', () => this.reset());
    const channel = await conn.createConfirmChannel();
    channel.on('error', (err: Error) => this.logger.warn(`AMQP channel error: ${err.message}`));
    channel.on('close', () => this.reset());
    return { conn, channel };
  }

  private reset(): void {
    const old = this.connecting;
    this.connecting = null;
    this.asserted.clear();
    old?.then(({ conn }) => conn.close()).catch(() => undefined);
  }
}
