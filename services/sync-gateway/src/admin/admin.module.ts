import { Module, type DynamicModule } from '@nestjs/common';
import { MetricsModule } from '@outpost/server-kit';
import { CaptureStatusRepository } from '../capture/capture-status.repository';
import { ClientVisibility } from '../conflicts/client-visibility';
import { ConflictsRepository } from '../conflicts/conflicts.repository';
import { RefusalsRepository } from '../conflicts/refusals.repository';
import { ConsoleController } from '../console/console.controller';
import { InfraModule, type GatewayInfra } from '../infra/infra.module';
import { LagRepository } from '../lag/lag.repository';
import { AuthAuditRepository } from '../sessions/auth-audit.repository';
import { AdminTokenGuard } from './admin-token.guard';
import { AdminController } from './admin.controller';

/** The administrators' API on ADMIN_PORT, a listener of its own so it can stay off the public network. */
@Module({})
export class AdminModule {
  static forRoot(infra: GatewayInfra): DynamicModule {
    return {
      module: AdminModule,
      // GET /metrics on the admin port: internal, like the rest of this listener.
      imports: [InfraModule.forRoot(infra), MetricsModule],
      controllers: [AdminController, ConsoleController],
      providers: [
        AdminTokenGuard,
        ConflictsRepository,
        RefusalsRepository,
        ClientVisibility,
        CaptureStatusRepository,
        LagRepository,
        AuthAuditRepository,
      ],
    };
  }
}
