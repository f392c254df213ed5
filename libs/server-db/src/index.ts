export * from './data-source';
export * from './migrate';
export { migrations } from './migrations';
export * from './capture-barrier';
