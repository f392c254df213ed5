import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { compileVisibility, type Schema, type VisibilityPlan } from '@outpost/schema';
import { ObjectStore } from '@outpost/storage';
import type { RouterConfig } from './config/router.config';
import { RouterDatabase } from './database/router-database';
import { ExtractService } from './extract/extract.service';
import { RouterKickConsumer } from './kick/router-kick.consumer';
import { OutboxWriter } from './outbox/outbox-writer';
import { LeaderLock } from './routing/leader-lock';
import { RouteLoop } from './routing/route-loop';
import { RouteRepository } from './routing/route.repository';
import { RouterService } from './routing/router.service';

export const VISIBILITY = Symbol('VISIBILITY');

/** Stops the loop before the pool it uses is closed. */
class RouterLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly loop: RouteLoop,
    private readonly db: RouterDatabase,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    await this.db.close();
  }
}

@Module({})
export class AppModule {
  static forRoot(config: RouterConfig, schema: Schema, store: ObjectStore): DynamicModule {
    return {
      module: AppModule,
      controllers: [RouterKickConsumer],
      providers: [
        { provide: VISIBILITY, useFactory: (): VisibilityPlan => compileVisibility(schema) },
        { provide: RouterDatabase, useFactory: () => new RouterDatabase(config.databaseUrl) },
        { provide: OutboxWriter, useFactory: () => new OutboxWriter(store) },
        {
          provide: RouteRepository,
          inject: [RouterDatabase, VISIBILITY],
          useFactory: (db: RouterDatabase, visibility: VisibilityPlan) =>
            new RouteRepository(db, schema, visibility),
        },
        {
          provide: ExtractService,
          inject: [RouterDatabase, VISIBILITY, OutboxWriter],
          useFactory: (db: RouterDatabase, visibility: VisibilityPlan, outbox: OutboxWriter) =>
            new ExtractService(db, schema, visibility, outbox, config.extractPageSize),
        },
        {
          provide: RouterService,
          inject: [RouterDatabase, RouteRepository, VISIBILITY, ExtractService, OutboxWriter],
          useFactory: (
            db: RouterDatabase,
            repo: RouteRepository,
            visibility: VisibilityPlan,
            extracts: ExtractService,
            outbox: OutboxWriter,
          ) =>
            new RouterService(db, repo, visibility, extracts, outbox, {
              batchSize: config.batchSize,
              maxFileTxns: config.maxFileTxns,
              retryMaxMs: config.retryMaxMs,
            }),
        },
        {
          provide: RouteLoop,
          inject: [RouterService],
          useFactory: (router: RouterService) =>
            new RouteLoop(router, new LeaderLock(config.databaseUrl), config.pollMs),
        },
        {
          provide: RouterLifecycle,
          inject: [RouteLoop, RouterDatabase],
          useFactory: (loop: RouteLoop, db: RouterDatabase) => new RouterLifecycle(loop, db),
        },
      ],
    };
  }
}
