import { Logger } from '@nestjs/common';
import type { LeaderLock } from './leader-lock';
import type { RouterService } from './router.service';

/**
 * Runs routing passes one at a time: at once while there is more to do or after a kick, otherwise
 * every `pollMs`. Kicks only shorten the wait; polling alone is enough to route everything.
 */
export class RouteLoop {
  private readonly logger = new Logger('RouteLoop');
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private kicked = false;
  private stopped = true;

  constructor(
    private readonly router: RouterService,
    private readonly leader: LeaderLock,
    private readonly pollMs: number,
  ) {}

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
      if (!(await this.leader.acquire())) return;
      while (!this.stopped && (await this.router.runPass()));
    } catch (err) {
      this.logger.error(
        `routing pass failed, retrying in ${this.pollMs} ms: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}
