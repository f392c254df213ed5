import { ClientProxy, ClientProxyFactory, CustomStrategy, Transport } from '@nestjs/microservices';
import { queueName, type QueueKey } from '@outpost/contracts';
import { ReplySafeServerRmq } from './reply-safe-server-rmq';

/** Every side asserts queues with the same arguments, or RabbitMQ refuses with PRECONDITION_FAILED. */
export const QUEUE_OPTIONS = { durable: true } as const;

/**
 * After a lost broker connection, try again every second (the library's default is the heartbeat,
 * five seconds): a broker restart costs a second of consuming, not five. The heartbeat notices a
 * connection that stalled without closing.
 */
const SOCKET_OPTIONS = { reconnectTimeInSeconds: 1, heartbeatIntervalInSeconds: 5 };

/**
 * The RabbitMQ server of a service: Nest's, with replies that cannot be sent logged instead of
 * ending the process (ReplySafeServerRmq). `noAck: false` when handlers ack by hand.
 */
export function rmqServerOptions(
  amqpUrl: string,
  prefix: string,
  key: QueueKey,
  prefetchCount = 8,
  extra: { noAck?: boolean } = {},
): CustomStrategy {
  return {
    strategy: new ReplySafeServerRmq({
      urls: [amqpUrl],
      queue: queueName(prefix, key),
      queueOptions: QUEUE_OPTIONS,
      prefetchCount,
      socketOptions: SOCKET_OPTIONS,
      ...extra,
    }),
  };
}

export function rmqClient(amqpUrl: string, prefix: string, key: QueueKey): ClientProxy {
  return ClientProxyFactory.create({
    transport: Transport.RMQ,
    options: {
      urls: [amqpUrl],
      queue: queueName(prefix, key),
      queueOptions: QUEUE_OPTIONS,
      socketOptions: SOCKET_OPTIONS,
    },
  });
}
