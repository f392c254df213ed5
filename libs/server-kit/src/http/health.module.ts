import { Controller, Get, Injectable, Module, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';

/** Flipped to ready by main.ts once the service is migrated and connected. */
@Injectable()
export class Readiness {
  ready = false;
}

@Controller()
export class HealthController {
  constructor(private readonly readiness: Readiness) {}

  @Get('healthz')
  health(@Res() res: ServerResponse): void {
    res.statusCode = this.readiness.ready ? 200 : 503;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ status: this.readiness.ready ? 'ok' : 'starting' }));
  }
}

/** `/healthz` for services that already serve HTTP (200 once ready, 503 before). */
@Module({ controllers: [HealthController], providers: [Readiness], exports: [Readiness] })
export class HealthModule {}
