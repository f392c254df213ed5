export * from './config';
export * from './shared-vars';
export * from './secret-strength';
export * from './schema-named';
