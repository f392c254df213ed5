import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RouterConfig } from '../config/router.config';
import { ROUTER_CONFIG } from '../router.tokens';
import { LeaderLock } from '../routing/leader-lock';
import { RetentionService, type PruneCounts } from './retention.service';

/**
 * Runs a prune pass every `retentionIntervalSeconds`, only in the router that holds the leader
 * lock: the one process that writes the log and the outbound files, and that knows every
 * client's position, is the one that can tell what nobody needs any more. A standby router
 * prunes nothing; a leader that loses its lease stops between batches.
 */
@Injectable()
export class RetentionLoop {
  private readonly logger = new Logger('Retention');
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly retention: RetentionService,
    private readonly leader: LeaderLock,
    @Inject(ROUTER_CONFIG) private readonly config: RouterConfig,
  ) {}

  start(): void {
    if (this.config.retentionIntervalSeconds === 0) {
      this.logger.log('retention disabled (RETENTION_INTERVAL_SECONDS=0): nothing is pruned');
      return;
    }
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.current = this.pass().finally(() => {
        this.current = undefined;
        this.schedule();
      });
    }, this.config.retentionIntervalSeconds * 1000);
  }

  private async pass(): Promise<void> {
    const started = Date.now();
    try {
      if (!(await this.leader.confirm())) return;
      const counts = await this.retention.prune(async () => this.stopped || !(await this.leader.confirm()));
      this.logger.log(`prune pass in ${Date.now() - started} ms: ${describe(counts)}`);
    } catch (err) {
      this.logger.error(
        `prune pass failed, retrying in ${this.config.retentionIntervalSeconds} s: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}

function describe(c: PruneCounts): string {
  return Object.entries(c)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
}
