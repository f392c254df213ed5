import 'reflect-metadata';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { migrate } from '@outpost/server-db';
import {
  AmqpProbe,
  closeOnSignals,
  correlationMiddleware,
  HttpErrorFilter,
  initMetrics,
  postgresCheck,
  serviceLogger,
  startLogging,
  useServiceLogger,
  verifyStrictJson,
  withLogging,
  Readiness,
  RmqStatusCheck,
} from '@outpost/server-kit';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminModule } from './admin/admin.module';
import { AgentModule } from './agent.module';
import { loadGatewayConfig, type GatewayConfig } from './config';
import { closeInfra, connectInfra } from './infra/infra.module';
import { gatewayMetricsMiddleware } from './metrics/gateway-metrics';
import { serveOpenApiDocument } from './openapi/openapi';

async function createHttpApp(module: DynamicModule, config: GatewayConfig): Promise<NestExpressApplication> {
  // Upload bodies are DX files streamed onward: only JSON requests get a body parser.
  const app = await NestFactory.create<NestExpressApplication>(withLogging('sync-gateway', module), {
    bodyParser: false,
    httpsOptions: tlsOptions(config),
    bufferLogs: true,
  });
  useServiceLogger(app);
  app.useBodyParser('json', {
    limit: '64kb',
    type: (req: IncomingMessage) => req.method !== 'PUT' && /json/i.test(req.headers['content-type'] ?? ''),
    verify: verifyStrictJson,
  });
  app.use(gatewayMetricsMiddleware);
  app.use(correlationMiddleware);
  app.useGlobalFilters(new HttpErrorFilter());
  return app;
}

/** Both ports serve HTTPS when a certificate and key are configured: agents need no TLS terminator. */
function tlsOptions(config: GatewayConfig): { cert: Buffer; key: Buffer } | undefined {
  if (!config.tlsCertFile || !config.tlsKeyFile) return undefined;
  return { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) };
}

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  startLogging('sync-gateway');
  initMetrics('sync-gateway');
  await migrate(config.databaseUrl, config.schema);
  const infra = await connectInfra(config);
  const agentApp = await createHttpApp(AgentModule.forRoot(infra), config);
  const adminApp = await createHttpApp(AdminModule.forRoot(infra), config);
  serveOpenApiDocument(agentApp, 'agent');
  serveOpenApiDocument(adminApp, 'admin');
  await agentApp.listen(config.gatewayPort);
  await adminApp.listen(config.adminPort);
  // The gateway reaches S3 only through the inbox-store, whose own readiness covers it.
  const amqp = new AmqpProbe(config.amqpUrl);
  agentApp.get(Readiness).dependOn(
    postgresCheck((sql) => infra.dataSource.query(sql)),
    amqp,
    new RmqStatusCheck('registry client', infra.registryRpc.status),
    new RmqStatusCheck('inbox-store client', infra.inboxStoreRpc.status),
  ).ready = true;
  closeOnSignals('sync-gateway', async () => {
    agentApp.get(Readiness).ready = false;
    await Promise.all([agentApp.close(), adminApp.close()]);
    await amqp.close();
    await closeInfra(infra);
  });
  const portOf = (app: NestExpressApplication) => (app.getHttpServer().address() as AddressInfo).port;
  serviceLogger('sync-gateway').info(
    `sync-gateway ready on agent port ${portOf(agentApp)}, admin port ${portOf(adminApp)}` +
      ` (${config.tlsCertFile ? 'https' : 'http'})`,
  );
}

main().catch((err: unknown) => {
  serviceLogger('sync-gateway').fatal(
    `sync-gateway failed to start: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(1);
});
