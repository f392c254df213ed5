import { ClientProxy, ClientProxyFactory, RmqOptions, Transport } from '@nestjs/microservices';
import { queueName, type QueueKey } from '@outpost/contracts';

/** Every side asserts queues with the same arguments, or RabbitMQ refuses with PRECONDITION_FAILED. */
export const QUEUE_OPTIONS = { durable: true } as const;

export function rmqServerOptions(
  amqpUrl: string,
  prefix: string,
  key: QueueKey,
  prefetchCount = 8,
): RmqOptions {
  return {
    transport: Transport.RMQ,
    options: { urls: [amqpUrl], queue: queueName(prefix, key), queueOptions: QUEUE_OPTIONS, prefetchCount },
  };
}

export function rmqClient(amqpUrl: string, prefix: string, key: QueueKey): ClientProxy {
  return ClientProxyFactory.create({
    transport: Transport.RMQ,
    options: { urls: [amqpUrl], queue: queueName(prefix, key), queueOptions: QUEUE_OPTIONS },
  });
}
