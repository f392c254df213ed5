import { Global, Module, type DynamicModule } from '@nestjs/common';
import { createDataSource } from '@outpost/server-db';
import {
  EventPublisher,
  HealthModule,
  MetricsModule,
  SERVICE_CREDENTIALS,
  type ServiceCredentials,
} from '@outpost/server-kit';
import { ObjectStore } from '@outpost/storage';
import { DataSource } from 'typeorm';
import type { InboxStoreConfig } from './config';
import { InboxFileEntity } from './inbox/inbox-file.entity';
import { InboxModule } from './inbox/inbox.module';
import { OutboxModule } from './outbox/outbox.module';

@Global()
@Module({})
class InfraModule {
  static forRoot(config: InboxStoreConfig, store: ObjectStore): DynamicModule {
    return {
      module: InfraModule,
      providers: [
        { provide: ObjectStore, useValue: store },
        {
          provide: SERVICE_CREDENTIALS,
          useValue: { internalToken: config.internalToken } satisfies ServiceCredentials,
        },
        {
          provide: DataSource,
          useFactory: () =>
            createDataSource(config.databaseUrl, [InboxFileEntity], {
              applicationName: 'inbox-store',
            }).initialize(),
        },
        { provide: EventPublisher, useFactory: () => new EventPublisher(config.amqpUrl, config.queuePrefix) },
      ],
      exports: [ObjectStore, SERVICE_CREDENTIALS, DataSource, EventPublisher],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: InboxStoreConfig, store: ObjectStore): DynamicModule {
    return {
      module: AppModule,
      imports: [InfraModule.forRoot(config, store), HealthModule, MetricsModule, InboxModule, OutboxModule],
    };
  }
}
