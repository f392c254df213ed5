export * from './data-source';
export * from './migrate';
export * from './pg-pool';
export { migrations } from './migrations';
export * from './capture-barrier';
export * from './synced-schema';
export * from './sync-state-metrics';
