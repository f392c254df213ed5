/** Injection tokens of values that are not classes. */
export const SYNC_SCHEMA = Symbol('SYNC_SCHEMA');
export const VISIBILITY = Symbol('VISIBILITY');
export const ROUTER_CONFIG = Symbol('ROUTER_CONFIG');
