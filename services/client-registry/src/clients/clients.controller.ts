import { Controller, UseFilters, UseGuards } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  patterns,
  type AddClientMessage,
  type AuthenticateMessage,
  type ClientNameMessage,
  type RecordSyncMessage,
} from '@outpost/contracts';
import { AdminOnly, RpcAuthGuard, RpcErrorFilter } from '@outpost/server-kit';
import { ClientsService } from './clients.service';

/**
 * RPC errors leave through the one RMQ mapper (set per controller: hybrid apps do not pass global
 * filters on). Every pattern needs the service token; those that manage clients, the admin token too.
 */
@Controller()
@UseFilters(RpcErrorFilter)
@UseGuards(RpcAuthGuard)
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  @MessagePattern(patterns.registryAuthenticate)
  authenticate(@Payload() msg: AuthenticateMessage) {
    return this.clients.authenticate(msg.name, msg.secret);
  }

  @MessagePattern(patterns.registryAdd)
  @AdminOnly()
  add(@Payload() msg: AddClientMessage) {
    return this.clients.add(msg.name, msg.userLogin);
  }

  @MessagePattern(patterns.registryList)
  @AdminOnly()
  list() {
    return this.clients.list();
  }

  @MessagePattern(patterns.registryGet)
  get(@Payload() msg: ClientNameMessage) {
    return this.clients.get(msg.name);
  }

  @MessagePattern(patterns.registryDeactivate)
  @AdminOnly()
  deactivate(@Payload() msg: ClientNameMessage) {
    return this.clients.deactivate(msg.name);
  }

  @MessagePattern(patterns.registryReactivate)
  @AdminOnly()
  reactivate(@Payload() msg: ClientNameMessage) {
    return this.clients.reactivate(msg.name);
  }

  @MessagePattern(patterns.registryRotateSecret)
  @AdminOnly()
  rotateSecret(@Payload() msg: ClientNameMessage) {
    return this.clients.rotateSecret(msg.name);
  }

  @MessagePattern(patterns.registryRecordSync)
  recordSync(@Payload() msg: RecordSyncMessage) {
    return this.clients.recordSync(msg.name, msg.result);
  }

  @MessagePattern(patterns.registryReextract)
  @AdminOnly()
  reextract(@Payload() msg: ClientNameMessage) {
    return this.clients.reextract(msg.name);
  }
}
