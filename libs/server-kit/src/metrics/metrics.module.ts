import { Controller, Get, Module, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { renderMetrics } from './metrics';

@Controller()
export class MetricsController {
  @Get('metrics')
  async metrics(@Res() res: ServerResponse): Promise<void> {
    const { contentType, body } = await renderMetrics();
    res.statusCode = 200;
    res.setHeader('content-type', contentType);
    res.end(body);
  }
}

/** `GET /metrics` (Prometheus text) for services that serve HTTP through Nest. */
@Module({ controllers: [MetricsController] })
export class MetricsModule {}
