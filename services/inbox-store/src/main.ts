import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { queueName } from '@outpost/contracts';
import { migrate } from '@outpost/server-db';
import {
  AmqpProbe,
  closeOnSignals,
  correlationMiddleware,
  EventPublisher,
  HttpErrorFilter,
  httpMetricsMiddleware,
  initMetrics,
  postgresCheck,
  serviceLogger,
  startLogging,
  useServiceLogger,
  withLogging,
  Readiness,
  rmqServerOptions,
  RmqStatusCheck,
  s3Check,
} from '@outpost/server-kit';
import { ObjectStore } from '@outpost/storage';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { loadInboxStoreConfig } from './config';

/** The byte paths, as the metrics name them. */
function inboxStoreRoute(method: string, path: string): string {
  if (method === 'PUT' && path.startsWith('/internal/inbox/')) return 'inbox-upload';
  if (method === 'GET' && path.startsWith('/internal/outbox/')) return 'outbox-download';
  return 'other';
}

async function main(): Promise<void> {
  const config = loadInboxStoreConfig();
  startLogging('inbox-store');
  initMetrics('inbox-store');
  const store = ObjectStore.fromConfig(config);
  await migrate(config.databaseUrl);
  await store.ensureBuckets();
  // The upload body is the file itself: only JSON requests (commit) get a body parser.
  const app = await NestFactory.create<NestExpressApplication>(
    withLogging('inbox-store', AppModule.forRoot(config, store)),
    { bodyParser: false, bufferLogs: true },
  );
  useServiceLogger(app);
  app.useBodyParser('json', {
    limit: '64kb',
    type: (req: IncomingMessage) => req.method !== 'PUT' && /json/i.test(req.headers['content-type'] ?? ''),
  });
  app.use(httpMetricsMiddleware(inboxStoreRoute));
  app.use(correlationMiddleware);
  app.useGlobalFilters(new HttpErrorFilter());
  app.connectMicroservice(rmqServerOptions(config.amqpUrl, config.queuePrefix, 'inboxStoreRpc'));
  await app.startAllMicroservices();
  const publisher = app.get(EventPublisher);
  const dataSource = app.get(DataSource);
  await publisher.connect();
  await app.listen(config.port);
  const amqp = new AmqpProbe(config.amqpUrl);
  app.get(Readiness).dependOn(
    postgresCheck((sql) => dataSource.query(sql)),
    amqp,
    new RmqStatusCheck('consumer', app.getMicroservices()[0].status),
    s3Check(() => store.inboxBucketExists()),
  ).ready = true;
  closeOnSignals('inbox-store', async () => {
    app.get(Readiness).ready = false;
    await app.close();
    await publisher.close();
    await amqp.close();
    await dataSource.destroy();
  });
  const port = (app.getHttpServer().address() as AddressInfo).port;
  serviceLogger('inbox-store').info(
    `inbox-store ready on http port ${port}, queue ${queueName(config.queuePrefix, 'inboxStoreRpc')}`,
  );
}

main().catch((err: unknown) => {
  serviceLogger('inbox-store').fatal(
    `inbox-store failed to start: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(1);
});
