import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { queueName } from '@outpost/contracts';
import { migrate } from '@outpost/server-db';
import {
  AmqpProbe,
  closeOnSignals,
  EventPublisher,
  initMetrics,
  postgresCheck,
  rmqServerOptions,
  RmqStatusCheck,
  serviceLogger,
  startLogging,
  useServiceLogger,
  withLogging,
  startHealthServer,
} from '@outpost/server-kit';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { loadRegistryConfig } from './config';

async function main(): Promise<void> {
  const config = loadRegistryConfig();
  startLogging('client-registry');
  initMetrics('client-registry');
  const health = await startHealthServer(config.healthPort);
  await migrate(config.databaseUrl);
  const app = await NestFactory.createMicroservice(
    withLogging('client-registry', AppModule.forRoot(config)),
    {
      ...rmqServerOptions(config.amqpUrl, config.queuePrefix, 'registryRpc'),
      bufferLogs: true,
    },
  );
  useServiceLogger(app);
  await app.listen();
  const publisher = app.get(EventPublisher);
  const dataSource = app.get(DataSource);
  await publisher.connect();
  const amqp = new AmqpProbe(config.amqpUrl);
  health.dependOn(
    postgresCheck((sql) => dataSource.query(sql)),
    amqp,
    new RmqStatusCheck('consumer', app.status),
  );
  health.setReady(true);
  closeOnSignals('client-registry', async () => {
    health.setReady(false);
    await app.close();
    await publisher.close();
    await amqp.close();
    await dataSource.destroy();
    await health.close();
  });
  serviceLogger('client-registry').info(
    `client-registry ready on queue ${queueName(config.queuePrefix, 'registryRpc')}, health port ${health.port}`,
  );
}

main().catch((err: unknown) => {
  serviceLogger('client-registry').fatal(
    `client-registry failed to start: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(1);
});
