import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { compileVisibility, type SchemaSelection } from '@outpost/schema';
import { ObjectStore } from '@outpost/storage';
import { CaptureRepository } from './capture/capture.repository';
import { CaptureService } from './capture/capture.service';
import { ChangeDecoder } from './capture/change-decoder';
import type { RouterConfig } from './config/router.config';
import { RouterDatabase } from './database/router-database';
import { ExtractService } from './extract/extract.service';
import { RouterKickConsumer } from './kick/router-kick.consumer';
import { OutboxWriter } from './outbox/outbox-writer';
import { SchemaRefreshService } from './refresh/schema-refresh.service';
import { ROUTER_CONFIG, SCHEMA_SELECTION, SYNC_SCHEMA, VISIBILITY } from './router.tokens';
import { LeaderLock } from './routing/leader-lock';
import { RouteLoop } from './routing/route-loop';
import { RouteRepository } from './routing/route.repository';
import { RouterService } from './routing/router.service';
import { RetentionLoop } from './retention/retention-loop';
import { RetentionRepository } from './retention/retention.repository';
import { RetentionService } from './retention/retention.service';

/** Stops the loops (and with them the capture) before the pool they use is closed. */
class RouterLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(RouteLoop) private readonly loop: RouteLoop,
    @Inject(RetentionLoop) private readonly retention: RetentionLoop,
    @Inject(RouterDatabase) private readonly db: RouterDatabase,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.retention.stop();
    await this.loop.stop();
    await this.db.close();
  }
}

@Module({})
export class AppModule {
  static forRoot(config: RouterConfig, selection: SchemaSelection, store: ObjectStore): DynamicModule {
    const schema = selection.schema;
    return {
      module: AppModule,
      controllers: [RouterKickConsumer],
      providers: [
        { provide: ROUTER_CONFIG, useValue: config },
        { provide: SYNC_SCHEMA, useValue: schema },
        { provide: SCHEMA_SELECTION, useValue: selection },
        { provide: VISIBILITY, useValue: compileVisibility(schema) },
        { provide: ObjectStore, useValue: store },
        RouterDatabase,
        OutboxWriter,
        RouteRepository,
        ExtractService,
        SchemaRefreshService,
        RouterService,
        LeaderLock,
        ChangeDecoder,
        CaptureRepository,
        CaptureService,
        RouteLoop,
        RetentionRepository,
        RetentionService,
        RetentionLoop,
        RouterLifecycle,
      ],
    };
  }
}
