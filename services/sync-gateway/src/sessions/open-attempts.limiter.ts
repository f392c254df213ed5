import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '../config';
import { GATEWAY_CONFIG } from '../infra/infra.tokens';

/** Enough keys for every laptop of a large fleet and then some; beyond it the oldest are forgotten. */
const MAX_KEYS = 100_000;

/**
 * Counts failed session opens per client name and per source address over a sliding window, in
 * this gateway's memory: each replica counts on its own, so a fleet of N gateways lets an attacker
 * try up to N times the limit, which still turns a brute force of secrets into a trickle. A
 * restart forgets the counts, and so does a successful open for its name (not its address: one
 * office may hold a laptop that knows its secret and a thief who does not).
 */
@Injectable()
export class OpenAttemptsLimiter {
  /** Times (ms) of the failures still inside the window, oldest first, at most `limit` per key. */
  private readonly failures = new Map<string, number[]>();
  private readonly limit: number;
  private readonly windowMs: number;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.limit = config.sessionOpenLimit;
    this.windowMs = config.sessionOpenWindowSeconds * 1000;
  }

  /** Seconds until the name and the address may try again; 0 when both may try now. */
  retryAfterSeconds(name: string, address: string, now = Date.now()): number {
    const wait = Math.max(this.waitMs(nameKey(name), now), this.waitMs(addressKey(address), now));
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  recordFailure(name: string, address: string, now = Date.now()): void {
    this.push(nameKey(name), now);
    this.push(addressKey(address), now);
  }

  recordSuccess(name: string): void {
    this.failures.delete(nameKey(name));
  }

  private waitMs(key: string, now: number): number {
    const times = this.live(key, now);
    if (times.length < this.limit) return 0;
    return times[0] + this.windowMs - now;
  }

  private push(key: string, now: number): void {
    const times = this.live(key, now);
    times.push(now);
    if (times.length > this.limit) times.shift();
    // Re-inserting moves the key to the end: the map's first key is the least recently failed.
    this.failures.delete(key);
    this.failures.set(key, times);
    if (this.failures.size > MAX_KEYS) this.failures.delete(this.failures.keys().next().value as string);
  }

  private live(key: string, now: number): number[] {
    const times = this.failures.get(key) ?? [];
    while (times.length > 0 && times[0] <= now - this.windowMs) times.shift();
    if (times.length === 0) this.failures.delete(key);
    return times;
  }
}

const nameKey = (name: string) => `name:${name}`;
const addressKey = (address: string) => `addr:${address}`;
