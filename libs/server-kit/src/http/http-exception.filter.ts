import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { ErrorBody } from '@outpost/contracts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DomainError } from '../errors/domain-error';
import { errorCodeOfHttpStatus, httpStatusOf } from '../errors/http-status';
import { correlationIdOf } from './correlation';

/** The one HTTP error mapper: every failure becomes `{error:{code,message,correlationId}}`, never a stack. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<IncomingMessage>();
    const res = http.getResponse<ServerResponse>();
    const correlationId = correlationIdOf(req);
    const { status, body } = this.toBody(exception, correlationId);
    const line = `${req.method} ${req.url} -> ${status} ${body.error.code} [${correlationId}] ${body.error.message}`;
    if (status >= 500) this.logger.error(line, exception instanceof Error ? exception.stack : undefined);
    else this.logger.warn(line);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    const retryAfter = retryAfterOf(exception);
    if (retryAfter !== undefined) res.setHeader('retry-after', String(retryAfter));
    res.end(JSON.stringify(body));
  }

  private toBody(exception: unknown, correlationId: string): { status: number; body: ErrorBody } {
    if (exception instanceof DomainError) {
      const error: ErrorBody['error'] = { code: exception.code, message: exception.message, correlationId };
      if (exception.details) error.details = exception.details;
      return { status: httpStatusOf(exception.code), body: { error } };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = errorCodeOfHttpStatus(status);
      const message = status >= 500 ? 'Internal server error' : exception.message;
      return { status, body: { error: { code, message, correlationId } } };
    }
    const code = errorCodeOfHttpStatus(500);
    return { status: 500, body: { error: { code, message: 'Internal server error', correlationId } } };
  }
}

/** A refusal that says when to come back (rate limits) tells HTTP clients in the standard header too. */
function retryAfterOf(exception: unknown): number | undefined {
  const seconds = exception instanceof DomainError ? exception.details?.retryAfterSeconds : undefined;
  return typeof seconds === 'number' && Number.isInteger(seconds) && seconds > 0 ? seconds : undefined;
}
