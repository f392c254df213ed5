export * from './types';
export * from './errors';
export * from './limits';
export {
  dec,
  date,
  ts,
  int,
  json,
  validateValue,
  valueProblem,
  isDxDecimal,
  isDxDate,
  isDxTimestamp,
  isDxBigInt,
  isDxJson,
} from './values';
export { checkHeader, checkTransaction } from './validate';
export type { DxTrailer } from './validate';
export * from './writer';
export * from './reader';
export { inspectDx, formatHeader, formatTransaction, formatValue } from './inspect';
export type { InspectOptions } from './inspect';
export { uploadHeaderFor } from './header';
export type { SeqSource } from './header';
