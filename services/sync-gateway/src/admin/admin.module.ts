import { Module, type DynamicModule } from '@nestjs/common';
import { CaptureStatusRepository } from '../capture/capture-status.repository';
import { ClientVisibility } from '../conflicts/client-visibility';
import { ConflictsRepository } from '../conflicts/conflicts.repository';
import { RefusalsRepository } from '../conflicts/refusals.repository';
import { InfraModule, type GatewayInfra } from '../infra/infra.module';
import { LagRepository } from '../lag/lag.repository';
import { AdminTokenGuard } from './admin-token.guard';
import { AdminController } from './admin.controller';

/** The administrators' API on ADMIN_PORT, a listener of its own so it can stay off the public network. */
@Module({})
export class AdminModule {
  static forRoot(infra: GatewayInfra): DynamicModule {
    return {
      module: AdminModule,
      imports: [InfraModule.forRoot(infra)],
      controllers: [AdminController],
      providers: [
        AdminTokenGuard,
        ConflictsRepository,
        RefusalsRepository,
        ClientVisibility,
        CaptureStatusRepository,
        LagRepository,
      ],
    };
  }
}
