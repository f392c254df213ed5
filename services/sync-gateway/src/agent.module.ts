import { Module, type DynamicModule } from '@nestjs/common';
import { HealthModule } from '@outpost/server-kit';
import { ConflictsController } from './conflicts/conflicts.controller';
import { ClientVisibility } from './conflicts/client-visibility';
import { ConflictsRepository } from './conflicts/conflicts.repository';
import { RefusalsRepository } from './conflicts/refusals.repository';
import { DownloadController } from './download/download.controller';
import { DownloadService } from './download/download.service';
import { OutboundRepository } from './download/outbound.repository';
import { InboxStateController } from './inbox/inbox-state.controller';
import { InboxStateRepository } from './inbox/inbox-state.repository';
import { InfraModule, type GatewayInfra } from './infra/infra.module';
import { AuthAuditRepository } from './sessions/auth-audit.repository';
import { ClientStateCache } from './sessions/client-state.cache';
import { OpenAttemptsLimiter } from './sessions/open-attempts.limiter';
import { SessionGuard } from './sessions/session.guard';
import { SessionsController } from './sessions/sessions.controller';
import { SessionsService } from './sessions/sessions.service';
import { UploadController } from './upload/upload.controller';
import { UploadPartsController } from './upload/upload-parts.controller';
import { UploadPartsService } from './upload/upload-parts.service';
import { UploadService } from './upload/upload.service';

/** The agents' API on GATEWAY_PORT. */
@Module({})
export class AgentModule {
  static forRoot(infra: GatewayInfra): DynamicModule {
    return {
      module: AgentModule,
      imports: [InfraModule.forRoot(infra), HealthModule],
      controllers: [
        SessionsController,
        UploadController,
        UploadPartsController,
        DownloadController,
        ConflictsController,
        InboxStateController,
      ],
      providers: [
        SessionGuard,
        ClientStateCache,
        SessionsService,
        UploadService,
        UploadPartsService,
        DownloadService,
        OutboundRepository,
        ConflictsRepository,
        InboxStateRepository,
        RefusalsRepository,
        ClientVisibility,
        OpenAttemptsLimiter,
        AuthAuditRepository,
      ],
    };
  }
}
