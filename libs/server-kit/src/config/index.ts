export * from './config';
export * from './shared-vars';
export * from './secret-strength';
