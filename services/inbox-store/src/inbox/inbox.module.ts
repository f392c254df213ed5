import { Module } from '@nestjs/common';
import { InboxController } from './inbox.controller';
import { InboxRepository } from './inbox.repository';
import { InboxRpcController } from './inbox.rpc-controller';
import { InboxService } from './inbox.service';

@Module({
  controllers: [InboxController, InboxRpcController],
  providers: [InboxService, InboxRepository],
})
export class InboxModule {}
