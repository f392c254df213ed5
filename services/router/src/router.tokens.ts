/** Injection tokens of values that are not classes. */
export const SYNC_SCHEMA = Symbol('SYNC_SCHEMA');
/** The schema's history and the version this deployment runs (`SCHEMA`). */
export const SCHEMA_SELECTION = Symbol('SCHEMA_SELECTION');
export const VISIBILITY = Symbol('VISIBILITY');
export const ROUTER_CONFIG = Symbol('ROUTER_CONFIG');
