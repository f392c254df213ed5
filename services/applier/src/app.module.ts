import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { EventPublisher } from '@outpost/server-kit';
import { ObjectStore } from '@outpost/storage';
import { InboxApplyService, SYNC_SCHEMA } from './apply/inbox-apply.service';
import { InboxFileConsumer } from './apply/inbox-file.consumer';
import { APPLIER_CONFIG, type ApplierConfig } from './config/applier.config';
import { createPgPool, PG_POOL } from './database/pg-pool';
import type { Pool } from 'pg';

@Module({})
export class AppModule {
  static forRoot(config: ApplierConfig): DynamicModule {
    return {
      module: AppModule,
      controllers: [InboxFileConsumer],
      providers: [
        { provide: APPLIER_CONFIG, useValue: config },
        { provide: SYNC_SCHEMA, useValue: config.schema.schema },
        {
          provide: PG_POOL,
          useFactory: () => createPgPool(config.databaseUrl, config.prefetch + 2),
        },
        { provide: ObjectStore, useFactory: () => ObjectStore.fromConfig(config) },
        { provide: EventPublisher, useFactory: () => new EventPublisher(config.amqpUrl, config.queuePrefix) },
        InboxApplyService,
        PoolCloser,
      ],
    };
  }
}

/** Closes the pool and the publisher after the consumers have stopped. */
@Injectable()
class PoolCloser implements OnApplicationShutdown {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly publisher: EventPublisher,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.close();
    await this.pool.end();
  }
}
