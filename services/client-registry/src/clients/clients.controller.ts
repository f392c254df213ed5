import { Controller, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  patterns,
  type AddClientMessage,
  type AuthenticateMessage,
  type ClientNameMessage,
  type RecordSyncMessage,
} from '@outpost/contracts';
import { RpcErrorFilter } from '@outpost/server-kit';
import { ClientsService } from './clients.service';

/** RPC errors leave through the one RMQ mapper (set per controller: hybrid apps do not pass global filters on). */
@Controller()
@UseFilters(RpcErrorFilter)
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  @MessagePattern(patterns.registryAuthenticate)
  authenticate(@Payload() msg: AuthenticateMessage) {
    return this.clients.authenticate(msg.name, msg.secret);
  }

  @MessagePattern(patterns.registryAdd)
  add(@Payload() msg: AddClientMessage) {
    return this.clients.add(msg.name, msg.userLogin);
  }

  @MessagePattern(patterns.registryList)
  list() {
    return this.clients.list();
  }

  @MessagePattern(patterns.registryGet)
  get(@Payload() msg: ClientNameMessage) {
    return this.clients.get(msg.name);
  }

  @MessagePattern(patterns.registryDeactivate)
  deactivate(@Payload() msg: ClientNameMessage) {
    return this.clients.deactivate(msg.name);
  }

  @MessagePattern(patterns.registryRotateSecret)
  rotateSecret(@Payload() msg: ClientNameMessage) {
    return this.clients.rotateSecret(msg.name);
  }

  @MessagePattern(patterns.registryRecordSync)
  recordSync(@Payload() msg: RecordSyncMessage) {
    return this.clients.recordSync(msg.name, msg.result);
  }

  @MessagePattern(patterns.registryReextract)
  reextract(@Payload() msg: ClientNameMessage) {
    return this.clients.reextract(msg.name);
  }
}
