export * from './types';
export * from './schema-error';
export * from './define-schema';
export * from './sales.schema';
