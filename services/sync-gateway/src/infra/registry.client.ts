import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { patterns, type ClientView, type ClientWithSecret, type SyncResult } from '@outpost/contracts';
import { callRpc, rpcCredentials } from '@outpost/server-kit';
import type { GatewayConfig } from '../config';
import { GATEWAY_CONFIG, REGISTRY_RPC } from './infra.tokens';

const AUTHENTICATE_TIMEOUT_MS = 90_000;

/**
 * The client registry, over RabbitMQ; its refusals arrive as DomainErrors. Every call carries the
 * service token; the calls of the admin API carry the admin token too, which the registry requires
 * for the patterns that manage clients.
 */
@Injectable()
export class RegistryClient {
  private readonly service: Record<string, string>;
  private readonly admin: Record<string, string>;

  constructor(
    @Inject(REGISTRY_RPC) private readonly rpc: ClientProxy,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.service = rpcCredentials(config.internalToken);
    this.admin = rpcCredentials(config.internalToken, config.adminToken);
  }

  /**
   * A first session costs the registry a slow hash; when many laptops connect at once the requests
   * queue on RabbitMQ, so this waits longer than other calls rather than failing a sync that would
   * have been served.
   */
  authenticate(name: string, secret: string, correlationId: string): Promise<ClientView> {
    return callRpc(this.rpc, patterns.registryAuthenticate, { name, secret }, correlationId, {
      timeoutMs: AUTHENTICATE_TIMEOUT_MS,
      headers: this.service,
    });
  }
  get(name: string, correlationId: string): Promise<ClientView> {
    return callRpc(this.rpc, patterns.registryGet, { name }, correlationId, { headers: this.service });
  }
  recordSync(name: string, result: SyncResult, correlationId: string): Promise<ClientView> {
    return callRpc(this.rpc, patterns.registryRecordSync, { name, result }, correlationId, {
      headers: this.service,
    });
  }
  add(name: string, userLogin: string, correlationId: string): Promise<ClientWithSecret> {
    return callRpc(this.rpc, patterns.registryAdd, { name, userLogin }, correlationId, {
      headers: this.admin,
    });
  }
  list(correlationId: string): Promise<ClientView[]> {
    return callRpc(this.rpc, patterns.registryList, {}, correlationId, { headers: this.admin });
  }
  deactivate(name: string, correlationId: string): Promise<ClientView> {
    return callRpc(this.rpc, patterns.registryDeactivate, { name }, correlationId, { headers: this.admin });
  }
  reactivate(name: string, correlationId: string): Promise<ClientView> {
    return callRpc(this.rpc, patterns.registryReactivate, { name }, correlationId, { headers: this.admin });
  }
  rotateSecret(name: string, correlationId: string): Promise<ClientWithSecret> {
    return callRpc(this.rpc, patterns.registryRotateSecret, { name }, correlationId, {
      headers: this.admin,
    });
  }
  reextract(name: string, correlationId: string): Promise<ClientView> {
    return callRpc(this.rpc, patterns.registryReextract, { name }, correlationId, { headers: this.admin });
  }
}
