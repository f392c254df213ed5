import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { migrate, startSyncStateMetrics } from '@outpost/server-db';
import {
  AmqpProbe,
  closeOnSignals,
  initMetrics,
  postgresCheck,
  rmqServerOptions,
  RmqStatusCheck,
  s3Check,
  serviceLogger,
  startHealthServer,
  startLogging,
  useServiceLogger,
  withLogging,
} from '@outpost/server-kit';
import type { Pool } from 'pg';
import { PG_POOL } from './database/pg-pool';
import { ObjectStore } from '@outpost/storage';
import { AppModule } from './app.module';
import { InboxApplyService } from './apply/inbox-apply.service';
import { loadApplierConfig } from './config/applier.config';

async function bootstrap(): Promise<void> {
  const logger = new Logger('Applier');
  const config = loadApplierConfig();
  startLogging('applier');
  initMetrics('applier');
  const health = await startHealthServer(config.healthPort);
  await migrate(config.databaseUrl, config.schema);
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(
    withLogging('applier', AppModule.forRoot(config)),
    {
      // Acked by hand once the work is committed, so a crash redelivers the wake-up.
      ...rmqServerOptions(config.amqpUrl, config.queuePrefix, 'dxInbox', config.prefetch, { noAck: false }),
      bufferLogs: true,
    },
  );
  useServiceLogger(app);
  app.enableShutdownHooks();
  await app.get(ObjectStore).ensureBuckets();
  await app.listen();
  const service = app.get(InboxApplyService);
  const sweep = () => service.sweep().catch((err: Error) => logger.warn(`sweep failed: ${err.message}`));
  await sweep();
  const timer = setInterval(() => void sweep(), config.sweepIntervalMs);
  const store = app.get(ObjectStore);
  const pool = app.get<Pool>(PG_POOL);
  const amqp = new AmqpProbe(config.amqpUrl);
  health.dependOn(
    postgresCheck((sql) => pool.query(sql)),
    amqp,
    new RmqStatusCheck('consumer', app.status),
    s3Check(() => store.inboxBucketExists()),
  );
  const stateMetrics = startSyncStateMetrics(config.databaseUrl, ['upload']);
  health.setReady(true);
  logger.log(`consuming ${config.queuePrefix}.dx.inbox; /healthz on port ${health.port}`);
  closeOnSignals('Applier', async () => {
    clearInterval(timer);
    health.setReady(false);
    await app.close();
    await amqp.close();
    await stateMetrics.close();
    await health.close();
  });
}

bootstrap().catch((err: unknown) => {
  serviceLogger('applier').fatal(
    `applier failed to start: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(1);
});
