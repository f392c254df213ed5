/** Sent to the gateway when a session opens; keep in step with package.json. */
export const AGENT_VERSION = '0.1.0';
