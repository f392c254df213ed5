import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { compileVisibility, type VisibilityPlan } from '@outpost/schema';
import { createDataSource } from '@outpost/server-db';
import { EventPublisher, rmqClient } from '@outpost/server-kit';
import { DataSource } from 'typeorm';
import type { GatewayConfig } from '../config';
import { SessionTokens } from '../sessions/session-token';
import { InboxStoreClient } from './inbox-store.client';
import { GATEWAY_CONFIG, INBOX_STORE_RPC, REGISTRY_RPC, VISIBILITY } from './infra.tokens';
import { RegistryClient } from './registry.client';

/** Connections shared by the agent and the admin listeners (two Nest apps, one set of connections). */
export interface GatewayInfra {
  config: GatewayConfig;
  dataSource: DataSource;
  registryRpc: ClientProxy;
  inboxStoreRpc: ClientProxy;
  publisher: EventPublisher;
  tokens: SessionTokens;
  visibility: VisibilityPlan;
}

export async function connectInfra(config: GatewayConfig): Promise<GatewayInfra> {
  const visibility = compileVisibility(config.schema.schema);
  const dataSource = await createDataSource(config.databaseUrl, [], {
    applicationName: 'sync-gateway',
  }).initialize();
  const registryRpc = rmqClient(config.amqpUrl, config.queuePrefix, 'registryRpc');
  const inboxStoreRpc = rmqClient(config.amqpUrl, config.queuePrefix, 'inboxStoreRpc');
  const publisher = new EventPublisher(config.amqpUrl, config.queuePrefix);
  await Promise.all([registryRpc.connect(), inboxStoreRpc.connect(), publisher.connect()]);
  const tokens = new SessionTokens(config.sessionKey, config.sessionTtlSeconds);
  return { config, dataSource, registryRpc, inboxStoreRpc, publisher, tokens, visibility };
}

export async function closeInfra(infra: GatewayInfra): Promise<void> {
  await Promise.allSettled([infra.registryRpc.close(), infra.inboxStoreRpc.close(), infra.publisher.close()]);
  await infra.dataSource.destroy();
}

@Global()
@Module({})
export class InfraModule {
  static forRoot(infra: GatewayInfra): DynamicModule {
    return {
      module: InfraModule,
      providers: [
        { provide: GATEWAY_CONFIG, useValue: infra.config },
        { provide: DataSource, useValue: infra.dataSource },
        { provide: REGISTRY_RPC, useValue: infra.registryRpc },
        { provide: INBOX_STORE_RPC, useValue: infra.inboxStoreRpc },
        { provide: EventPublisher, useValue: infra.publisher },
        { provide: SessionTokens, useValue: infra.tokens },
        { provide: VISIBILITY, useValue: infra.visibility },
        RegistryClient,
        InboxStoreClient,
      ],
      exports: [
        GATEWAY_CONFIG,
        DataSource,
        EventPublisher,
        SessionTokens,
        VISIBILITY,
        RegistryClient,
        InboxStoreClient,
      ],
    };
  }
}
