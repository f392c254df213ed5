import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { patterns, type ClientView, type ClientWithSecret, type SyncResult } from '@outpost/contracts';
import { callRpc } from '@outpost/server-kit';
import { REGISTRY_RPC } from './infra.tokens';

/** The client registry, over RabbitMQ; its refusals arrive as DomainErrors. */
@Injectable()
export class RegistryClient {
  constructor(@Inject(REGISTRY_RPC) private readonly rpc: ClientProxy) {}

  authenticate(name: string, secret: string, correlationId: string): Promise<ClientView> {
    return callRpc(this.rpc, patterns.registryAuthenticate, { name, secret }, correlationId);
  }
  add(name: string, userLogin: string, correlationId: string): Promise<ClientWithSecret> {
    return callRpc(this.rpc, patterns.registryAdd, { name, userLogin }, correlationId);
  }
  list(correlationId: string): Promise<ClientView[]> {
    return callRpc(this.rpc, patterns.registryList, {}, correlationId);
  }
  deactivate(name: string, correlationId: string): Promise<ClientView> {
    return callRpc(this.rpc, patterns.registryDeactivate, { name }, correlationId);
  }
  rotateSecret(name: string, correlationId: string): Promise<ClientWithSecret> {
    return callRpc(this.rpc, patterns.registryRotateSecret, { name }, correlationId);
  }
  recordSync(name: string, result: SyncResult, correlationId: string): Promise<ClientView> {
    return callRpc(this.rpc, patterns.registryRecordSync, { name, result }, correlationId);
  }
  reextract(name: string, correlationId: string): Promise<ClientView> {
    return callRpc(this.rpc, patterns.registryReextract, { name }, correlationId);
  }
}
