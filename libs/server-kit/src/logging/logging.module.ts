import { type DynamicModule, type INestApplicationContext, Module, type Type } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger as PinoNestLogger, LoggerModule } from 'nestjs-pino';
import { correlationIdOf } from '../http/correlation';
import { RmqCorrelationInterceptor } from './correlation.interceptor';
import { serviceLogger } from './logger';

const QUIET_PATHS = new Set(['/healthz', '/metrics']);

/**
 * Nest's logger is pino (nestjs-pino): every Nest log line and one line per HTTP request (health
 * and metrics scrapes excepted) as JSON with the correlation id. Message handlers get their
 * correlation id from the message. Use with `app.useLogger(app.get(Logger))` in main.ts.
 */
@Module({})
export class LoggingModule {
  static forRoot(service: string): DynamicModule {
    return {
      module: LoggingModule,
      global: true,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger: serviceLogger(service),
            genReqId: (req: IncomingMessage) => correlationIdOf(req),
            // The request id is the correlation id; the logger's mixin already puts it on every line,
            // so the request's own serializer leaves it out.
            autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.has((req.url ?? '').split('?')[0]) },
            serializers: {
              req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
              res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
            },
          },
        }),
      ],
      providers: [{ provide: APP_INTERCEPTOR, useClass: RmqCorrelationInterceptor }],
      exports: [LoggerModule],
    };
  }
}

/** Wraps a service's root module so that it also has the LoggingModule, without editing it. */
export function withLogging(service: string, root: DynamicModule | Type): DynamicModule {
  @Module({})
  class LoggedRoot {}
  return { module: LoggedRoot, imports: [LoggingModule.forRoot(service), root] };
}

/** Makes pino Nest's logger for this app (created with `bufferLogs: true`). */
export function useServiceLogger(app: INestApplicationContext): void {
  app.useLogger(app.get(PinoNestLogger));
}
