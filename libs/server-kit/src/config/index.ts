export * from './config';
export * from './shared-vars';
