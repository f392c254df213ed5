import { Logger as NestLogger, type LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import { loadConfig, str, type ConfigOf, type VarSpec } from '../config/config';
import { currentCorrelationId } from './correlation-context';
import { REDACT_PATHS, scrubText } from './redact';

export type LogFormat = 'json' | 'pretty';

const formatVar: VarSpec<LogFormat | 'auto'> = {
  env: 'LOG_FORMAT',
  description: 'json (one JSON object per line) or pretty; default json unless stdout is a terminal',
  default: 'auto',
  parse(raw) {
    if (raw === 'json' || raw === 'pretty' || raw === 'auto') return raw;
    throw new Error('must be json or pretty');
  },
};

export const logConfigSpec = {
  format: formatVar,
  level: str('LOG_LEVEL', {
    description: 'lowest level logged: trace, debug, info, warn, error',
    default: 'info',
  }),
};

export type LogConfig = ConfigOf<typeof logConfigSpec>;

/** LOG_FORMAT and LOG_LEVEL, validated like every other variable (a bad value stops the start). */
export function loadLogConfig(env: NodeJS.ProcessEnv = process.env): LogConfig {
  return loadConfig(logConfigSpec, env);
}

/** JSON in containers and pipes, readable lines on a terminal, unless LOG_FORMAT says otherwise. */
export function resolveLogFormat(configured: LogFormat | 'auto', stdoutIsTty: boolean): LogFormat {
  if (configured !== 'auto') return configured;
  return stdoutIsTty ? 'pretty' : 'json';
}

const scrubError = (err: Error) => {
  const serialized = pino.stdSerializers.err(err);
  serialized.message = scrubText(serialized.message);
  if (serialized.stack) serialized.stack = scrubText(serialized.stack);
  return serialized;
};

/**
 * The process's logger: one JSON object per line with time, level, service and, inside a request
 * or a message handler, the correlation id; credentials are redacted by key and scrubbed from
 * text. `destination` is for tests.
 */
export function createLogger(
  service: string,
  config: { format: LogFormat | 'auto'; level: string },
  destination?: DestinationStream,
): Logger {
  const format = resolveLogFormat(config.format, process.stdout.isTTY === true);
  const options: pino.LoggerOptions = {
    level: config.level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: '***' },
    serializers: { err: scrubError, error: scrubError },
    mixin() {
      const correlationId = currentCorrelationId();
      return correlationId ? { correlationId } : {};
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((arg: unknown) => (typeof arg === 'string' ? scrubText(arg) : arg));
        return method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  };
  if (destination) return pino(options, destination);
  if (format === 'pretty') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pretty = require('pino-pretty') as (opts: object) => DestinationStream;
    return pino(
      options,
      pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }),
    );
  }
  return pino(options, pino.destination({ dest: 1, sync: true }));
}

let root: Logger | undefined;

/** The one logger of this process, created on first use from LOG_FORMAT / LOG_LEVEL. */
export function serviceLogger(service?: string): Logger {
  if (!root) root = createLogger(service ?? 'outpost', loadLogConfig());
  return root;
}

/** Nest's LoggerService over the process logger, for code that logs before an app exists. */
class NestPinoAdapter implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.write('info', message, context);
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.write('error', message, context, trace);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }
  private write(level: pino.Level, message: unknown, context?: string, trace?: string): void {
    const fields = { ...(context ? { context } : {}), ...(trace ? { stack: scrubText(trace) } : {}) };
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ ...fields, ...message });
    else this.logger[level](fields, String(message));
  }
}

/**
 * First thing in a service's main(): creates the process logger and makes it Nest's logger too,
 * so even what is logged before the app exists (an RMQ client connecting) is a JSON line.
 */
export function startLogging(service: string): Logger {
  const logger = serviceLogger(service);
  NestLogger.overrideLogger(new NestPinoAdapter(logger));
  return logger;
}
