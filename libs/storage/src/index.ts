export * from './layout';
export * from './object-store';
