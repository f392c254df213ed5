import { syncedSchemaVar } from '@outpost/server-db';
import {
  int,
  loadConfig,
  optionalFile,
  sharedVars,
  type ConfigOf,
  type ConfigProblem,
} from '@outpost/server-kit';

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
