export * from './correlation-context';
export * from './redact';
export * from './logger';
export * from './correlation.interceptor';
export * from './logging.module';
