import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  Logger,
  type NestInterceptor,
} from '@nestjs/common';
import type { RmqContext } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { Observable, tap } from 'rxjs';
import { correlationIdOfRmq } from '../rmq/rpc-error.filter';
import { runWithCorrelation } from './correlation-context';

/**
 * Message handlers run with the correlation id their message carries (a header set by callRpc and
 * EventPublisher), so their log lines and the messages they send on carry it too. One line per
 * message handled, with its pattern and duration.
 */
@Injectable()
export class RmqCorrelationInterceptor implements NestInterceptor {
  private readonly logger = new Logger('rmq');

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'rpc') return next.handle();
    const rmq = ctx.switchToRpc().getContext<RmqContext>();
    const correlationId = correlationIdOfRmq(rmq) ?? randomUUID();
    const pattern = typeof rmq.getPattern === 'function' ? rmq.getPattern() : 'message';
    const started = Date.now();
    // The handler runs when the returned observable is subscribed: subscribe inside the context.
    return new Observable((subscriber) =>
      runWithCorrelation(correlationId, () =>
        next
          .handle()
          .pipe(
            tap({
              complete: () => this.logger.log(`${pattern} handled in ${Date.now() - started} ms`),
              error: (err: Error) =>
                this.logger.warn(`${pattern} failed after ${Date.now() - started} ms: ${err.message}`),
            }),
          )
          .subscribe(subscriber),
      ),
    );
  }
}
