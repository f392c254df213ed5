import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { queueName } from '@outpost/contracts';
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
  startLogging,
  useServiceLogger,
  withLogging,
  startHealthServer,
} from '@outpost/server-kit';
import { RouterDatabase } from './database/router-database';
import { ObjectStore } from '@outpost/storage';
import { AppModule } from './app.module';
import { CaptureService } from './capture/capture.service';
import { loadRouterConfig } from './config/router.config';
import { RetentionLoop } from './retention/retention-loop';
import { RouteLoop } from './routing/route-loop';

async function main(): Promise<void> {
  const config = loadRouterConfig();
  startLogging('router');
  initMetrics('router');
  const health = await startHealthServer(config.healthPort);
  await migrate(config.databaseUrl, config.schema);
  const store = ObjectStore.fromConfig(config);
  await store.ensureBuckets();
  const app = await NestFactory.createMicroservice(
    withLogging('router', AppModule.forRoot(config, config.schema, store)),
    {
      ...rmqServerOptions(config.amqpUrl, config.queuePrefix, 'routerKick'),
      bufferLogs: true,
    },
  );
  useServiceLogger(app);
  app.enableShutdownHooks();
  await app.listen();
  // The slot exists before the router says it is ready: every write after that is captured.
  await app.get(CaptureService).ensureSlot();
  app.get(RouteLoop).start();
  app.get(RetentionLoop).start();
  const db = app.get(RouterDatabase);
  const amqp = new AmqpProbe(config.amqpUrl);
  health.dependOn(
    postgresCheck((sql) => db.query(sql)),
    amqp,
    new RmqStatusCheck('consumer', app.status),
    s3Check(() => store.inboxBucketExists()),
  );
  const stateMetrics = startSyncStateMetrics(config.databaseUrl, ['download']);
  health.setReady(true);
  closeOnSignals('router', async () => {
    health.setReady(false);
    await app.close();
    await amqp.close();
    await stateMetrics.close();
    await health.close();
  });
  serviceLogger('router').info(
    `router ready on queue ${queueName(config.queuePrefix, 'routerKick')}, health port ${health.port}`,
  );
}

main().catch((err: unknown) => {
  serviceLogger('router').fatal(
    `router failed to start: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(1);
});
