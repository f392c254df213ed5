import { Global, Module, type DynamicModule } from '@nestjs/common';
import { createDataSource } from '@outpost/server-db';
import { EventPublisher, SERVICE_CREDENTIALS, type ServiceCredentials } from '@outpost/server-kit';
import { DataSource } from 'typeorm';
import { ClientsModule } from './clients/clients.module';
import { SyncClientEntity } from './clients/sync-client.entity';
import { REGISTRY_CONFIG, type RegistryConfig } from './config';

@Global()
@Module({})
class InfraModule {
  static forRoot(config: RegistryConfig): DynamicModule {
    return {
      module: InfraModule,
      providers: [
        { provide: REGISTRY_CONFIG, useValue: config },
        {
          provide: SERVICE_CREDENTIALS,
          useValue: {
            internalToken: config.internalToken,
            adminToken: config.adminToken,
          } satisfies ServiceCredentials,
        },
        {
          provide: DataSource,
          useFactory: () =>
            createDataSource(config.databaseUrl, [SyncClientEntity], {
              applicationName: 'client-registry',
            }).initialize(),
        },
        { provide: EventPublisher, useFactory: () => new EventPublisher(config.amqpUrl, config.queuePrefix) },
      ],
      exports: [REGISTRY_CONFIG, SERVICE_CREDENTIALS, DataSource, EventPublisher],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: RegistryConfig): DynamicModule {
    return { module: AppModule, imports: [InfraModule.forRoot(config), ClientsModule] };
  }
}
