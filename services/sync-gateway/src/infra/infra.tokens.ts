/** Injection tokens for the two RMQ clients (both are ClientProxy, so a class token cannot tell them apart). */
export const REGISTRY_RPC = Symbol('REGISTRY_RPC');
export const INBOX_STORE_RPC = Symbol('INBOX_STORE_RPC');
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
/** The compiled visibility rules of the synced schema: what a client may be shown. */
export const VISIBILITY = Symbol('VISIBILITY');
