export * from './harness/stats';
export * from './harness/scenario';
export * from './harness/options';
export * from './harness/main';
export { allScenarios } from './scenarios';
