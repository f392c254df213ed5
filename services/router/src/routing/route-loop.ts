import { Inject, Injectable, Logger } from '@nestjs/common';
import { CaptureService } from '../capture/capture.service';
import type { RouterConfig } from '../config/router.config';
import { ROUTER_CONFIG } from '../router.tokens';
import { LeaderLock } from './leader-lock';
import { RouterService } from './router.service';

/**
 * Runs routing passes one at a time: at once while there is more to do, after a kick or after the
 * capture logged changes, otherwise every `pollMs`. Kicks only shorten the wait; polling alone is
 * enough to route everything. Only the holder of the leader lock captures and routes; it re-checks
 * its lease before every pass, and a replica on standby takes over within one poll of its loss.
 */
@Injectable()
export class RouteLoop {
  private readonly logger = new Logger('RouteLoop');
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private kicked = false;
  private stopped = true;
  private leading = false;

  constructor(
    private readonly router: RouterService,
    private readonly leader: LeaderLock,
    private readonly capture: CaptureService,
    @Inject(ROUTER_CONFIG) config: RouterConfig,
  ) {
    this.pollMs = config.pollMs;
    capture.onCaptured(() => this.wake());
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  wake(): void {
    if (this.stopped) return;
    if (this.current) {
      this.kicked = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
    await this.capture.stop();
    await this.router.settle();
    await this.leader.release();
  }

  private schedule(ms: number): void {
    if (this.stopped || this.timer || this.current) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.current = this.tick().finally(() => {
        this.current = undefined;
        const again = this.kicked;
        this.kicked = false;
        this.schedule(again ? 0 : this.pollMs);
      });
    }, ms);
  }

  private async tick(): Promise<void> {
    try {
      if (!(await this.leader.acquire())) return this.standBy();
      if (!this.leading) this.logger.log('leading: capturing and routing');
      this.leading = true;
      await this.capture.ensureRunning();
      while (!this.stopped && (await this.router.runPass())) {
        if (!(await this.leader.confirm())) return this.standBy();
      }
    } catch (err) {
      this.logger.error(
        `routing pass failed, retrying in ${this.pollMs} ms: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  private async standBy(): Promise<void> {
    if (this.leading) this.logger.warn('lost the leader lock: standing by');
    this.leading = false;
    await this.capture.stop();
  }
}
