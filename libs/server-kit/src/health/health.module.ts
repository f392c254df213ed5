import { Controller, Get, Injectable, Module, Res, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckService,
  HealthIndicatorService,
  TerminusModule,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import type { ServerResponse } from 'node:http';
import { CHECK_TIMEOUT_MS, withTimeout, type DependencyCheck } from './dependency-checks';

/**
 * What readiness depends on: `ready` is set by main.ts once the service is migrated and
 * listening; `checks` are the dependencies that must answer for it to stay ready.
 */
@Injectable()
export class Readiness {
  ready = false;
  readonly checks: DependencyCheck[] = [];

  /** Adds dependency checks and returns this, for main.ts to chain. */
  dependOn(...checks: DependencyCheck[]): this {
    this.checks.push(...checks);
    return this;
  }
}

/**
 * `/health/live`: the process answers (an orchestrator restarts it when not). `/health/ready` and
 * `/healthz`: started, and every dependency (Postgres, RabbitMQ, S3) answers now; 503 with the
 * failing ones otherwise, so traffic is kept away while a dependency is gone and comes back with it.
 */
@Controller()
export class HealthController {
  constructor(
    private readonly readiness: Readiness,
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  @Get('health/live')
  live(@Res() res: ServerResponse): void {
    send(res, 200, { status: 'ok' });
  }

  @Get(['health/ready', 'healthz'])
  async ready(@Res() res: ServerResponse): Promise<void> {
    if (!this.readiness.ready) return send(res, 503, { status: 'starting' });
    try {
      const result = await this.health.check(this.readiness.checks.map((c) => () => this.indicate(c)));
      send(res, 200, result);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      send(res, 503, err.getResponse() as HealthCheckResult);
    }
  }

  private async indicate(dep: DependencyCheck): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(dep.name);
    try {
      await withTimeout(dep.check(), CHECK_TIMEOUT_MS, dep.name);
      return indicator.up();
    } catch (err) {
      return indicator.down({ message: err instanceof Error ? err.message : String(err) });
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

/** Liveness and readiness for a service's HTTP app, or (health-server.ts) on a port of its own. */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [Readiness],
  exports: [Readiness],
})
export class HealthModule {}
