import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { patterns, type ClientView, type ClientWithSecret, type SyncResult } from '@outpost/contracts';
import { callRpc } from '@outpost/server-kit';
import { REGISTRY_RPC } from './infra.tokens';

const AUTHENTICATE_TIMEOUT_MS = 90_000;

/** The client registry, over RabbitMQ; its refusals arrive as DomainErrors. */
@Injectable()
export class RegistryClient {
  constructor(@Inject(REGISTRY_RPC) private readonly rpc: ClientProxy) {}

  /**
   * A first session costs the registry a slow hash; when many laptops connect at once the requests
   * queue on RabbitMQ, so this waits longer than other calls rather than failing a sync that would
   * have been served.
   */
  authenticate(name: string, secret: string, correlationId: string): Promise<ClientView> {
    return callRpc(
      this.rpc,
      patterns.registryAuthenticate,
      { name, secret },
      correlationId,
      AUTHENTICATE_TIMEOUT_MS,
    );
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
