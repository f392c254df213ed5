import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, type ClientStatus } from '@outpost/contracts';
import { DomainError } from '@outpost/server-kit';
import type { GatewayConfig } from '../config';
import { RegistryClient } from '../infra/registry.client';
import { GATEWAY_CONFIG } from '../infra/infra.tokens';

export interface ClientState {
  status: ClientStatus;
  epoch: number;
}

/**
 * What the registry says of a client (status, credential epoch), remembered for
 * SESSION_CHECK_CACHE_MS. Every gateway replica asks the registry itself, so a deactivation or a
 * rotated secret reaches all of them within that time, with no message between replicas. Requests
 * for one client that arrive together share one lookup.
 */
@Injectable()
export class ClientStateCache {
  private readonly entries = new Map<string, { state: Promise<ClientState | null>; until: number }>();
  private readonly ttlMs: number;

  constructor(
    private readonly registry: RegistryClient,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.ttlMs = config.sessionCheckCacheMs;
  }

  /** The client's state, or null when the registry no longer knows it. */
  get(client: string, correlationId: string): Promise<ClientState | null> {
    const hit = this.entries.get(client);
    if (hit && hit.until > Date.now()) return hit.state;
    const entry = { state: this.lookup(client, correlationId), until: Date.now() + this.ttlMs };
    this.entries.set(client, entry);
    // A failed lookup is not remembered: the next request asks again.
    entry.state.catch(() => {
      if (this.entries.get(client) === entry) this.entries.delete(client);
    });
    this.evictExpired();
    return entry.state;
  }

  private async lookup(client: string, correlationId: string): Promise<ClientState | null> {
    try {
      const view = await this.registry.get(client, correlationId);
      return { status: view.status, epoch: view.credentialEpoch ?? 1 };
    } catch (err) {
      if (err instanceof DomainError && err.code === ErrorCode.ClientUnknown) return null;
      throw err;
    }
  }

  private evictExpired(): void {
    if (this.entries.size < 10_000) return;
    const now = Date.now();
    for (const [client, entry] of this.entries) if (entry.until <= now) this.entries.delete(client);
  }
}
