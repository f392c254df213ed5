import { syncedSchemaVar } from '@outpost/server-db';
import {
  int,
  loadConfig,
  optionalFile,
  sharedVars,
  type ConfigOf,
  type ConfigProblem,
} from '@outpost/server-kit';

const MiB = 1024 * 1024;

export const gatewayConfigSpec = {
  databaseUrl: sharedVars.databaseUrl,
  amqpUrl: sharedVars.amqpUrl,
  queuePrefix: sharedVars.queuePrefix,
  gatewayPort: sharedVars.gatewayPort,
  adminPort: sharedVars.adminPort,
  adminToken: sharedVars.adminToken,
  sessionKey: sharedVars.sessionKey,
  internalToken: sharedVars.internalToken,
  sessionTtlSeconds: int('SESSION_TTL_SECONDS', {
    description: 'how long a session token stays valid, in seconds (60-86400)',
    default: 3600,
    min: 60,
    max: 86_400,
  }),
  sessionCheckCacheMs: int('SESSION_CHECK_CACHE_MS', {
    description:
      'how long a gateway trusts what the registry said of a client (active, credential epoch) before asking again, in ms (0-60000); a revoked session is refused within this time',
    default: 2000,
    min: 0,
    max: 60_000,
  }),
  sessionOpenLimit: int('SESSION_OPEN_LIMIT', {
    description:
      'failed session opens allowed per client name and per source address within SESSION_OPEN_WINDOW_SECONDS before further opens get 429 (1-10000)',
    default: 10,
    min: 1,
    max: 10_000,
  }),
  sessionOpenWindowSeconds: int('SESSION_OPEN_WINDOW_SECONDS', {
    description: 'the window, in seconds, over which failed session opens are counted (1-86400)',
    default: 900,
    min: 1,
    max: 86_400,
  }),
  uploadMaxBytes: int('UPLOAD_MAX_BYTES', {
    description: 'largest upload body (a compressed DX file), in bytes (1024-17179869184); bigger gets 413',
    default: 256 * MiB,
    min: 1024,
    max: 16 * 1024 * MiB,
  }),
  uploadMaxFileRows: int('UPLOAD_MAX_FILE_ROWS', {
    description: 'most transactions (row changes) in one upload file (1-100000000); more gets 422',
    default: 1_000_000,
    min: 1,
    max: 100_000_000,
  }),
  uploadMaxTxnBytes: int('UPLOAD_MAX_TXN_BYTES', {
    description:
      'longest transaction (one row change, uncompressed JSON line) in an upload file, in bytes (1024-16777216); longer gets 422',
    default: 16 * MiB,
    min: 1024,
    max: 16 * MiB,
  }),
  uploadIdleTimeoutMs: int('UPLOAD_IDLE_TIMEOUT_MS', {
    description:
      'how long an upload body may stop arriving before the gateway cuts it with 408, in ms (100-600000)',
    default: 60_000,
    min: 100,
    max: 600_000,
  }),
  inboxStoreUrl: sharedVars.inboxStoreUrl,
  tlsCertFile: optionalFile(
    'TLS_CERT_FILE',
    'a PEM certificate (chain) file; with TLS_KEY_FILE both ports serve HTTPS',
  ),
  tlsKeyFile: optionalFile('TLS_KEY_FILE', 'the PEM private key file of TLS_CERT_FILE'),
  schema: syncedSchemaVar,
};
export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(gatewayConfigSpec, env, tlsPair(env));
}

/** A certificate without its key (or the reverse) is a mistake, not a request for plain HTTP. */
function tlsPair(env: NodeJS.ProcessEnv) {
  return (): ConfigProblem[] => {
    const cert = Boolean(env.TLS_CERT_FILE?.trim());
    const key = Boolean(env.TLS_KEY_FILE?.trim());
    if (cert === key) return [];
    const [given, missing] = cert ? ['TLS_CERT_FILE', 'TLS_KEY_FILE'] : ['TLS_KEY_FILE', 'TLS_CERT_FILE'];
    return [{ env: missing, problem: `missing while ${given} is set; give both to serve HTTPS, or neither` }];
  };
}
