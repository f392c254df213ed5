import { Module } from '@nestjs/common';
import { InboxController } from './inbox.controller';
import { InboxPartsController } from './inbox-parts.controller';
import { InboxPartsService } from './inbox-parts.service';
import { InboxRepository } from './inbox.repository';
import { InboxRpcController } from './inbox.rpc-controller';
import { InboxService } from './inbox.service';

@Module({
  controllers: [InboxController, InboxPartsController, InboxRpcController],
  providers: [InboxService, InboxPartsService, InboxRepository],
})
export class InboxModule {}
