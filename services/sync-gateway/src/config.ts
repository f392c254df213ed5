import { int, loadConfig, sharedVars, type ConfigOf } from '@outpost/server-kit';

export const gatewayConfigSpec = {
  databaseUrl: sharedVars.databaseUrl,
  amqpUrl: sharedVars.amqpUrl,
  queuePrefix: sharedVars.queuePrefix,
  gatewayPort: sharedVars.gatewayPort,
  adminPort: sharedVars.adminPort,
  adminToken: sharedVars.adminToken,
  sessionKey: sharedVars.sessionKey,
  sessionTtlSeconds: int('SESSION_TTL_SECONDS', {
    description: 'how long a session token stays valid, in seconds (60-86400)',
    default: 3600,
    min: 60,
    max: 86_400,
  }),
  inboxStoreUrl: sharedVars.inboxStoreUrl,
};
export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return loadConfig(gatewayConfigSpec, env);
}
