import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MetricsModule } from '../metrics/metrics.module';
import type { AddressInfo } from 'node:net';
import type { DependencyCheck } from './dependency-checks';
import { HealthModule, Readiness } from './health.module';

/** The health endpoints and, on the same port, the process's Prometheus metrics. */
@Module({ imports: [HealthModule, MetricsModule] })
class HealthServerModule {}

export interface HealthServer {
  readonly port: number;
  setReady(ready: boolean): void;
  /** Dependencies that must answer for the service to be ready. */
  dependOn(...checks: DependencyCheck[]): void;
  close(): Promise<void>;
}

/**
 * `/health/live`, `/health/ready` and `/healthz` on a port of their own, for services that only
 * speak RabbitMQ: 503 until setReady(true), and afterwards whenever a dependency does not answer.
 * `GET /metrics` serves the process's Prometheus metrics on the same port.
 */
export async function startHealthServer(port: number, host = '0.0.0.0'): Promise<HealthServer> {
  // No `logger` option: Nest applies it to every logger of the process, which would silence the
  // service's own log lines, not only this app's.
  const app = await NestFactory.create(HealthServerModule);
  await app.listen(port, host);
  const readiness = app.get(Readiness);
  const address = app.getHttpServer().address() as AddressInfo;
  return {
    port: address.port,
    setReady(value) {
      readiness.ready = value;
    },
    dependOn(...checks) {
      readiness.dependOn(...checks);
    },
    close: () => app.close(),
  };
}
