import { healthPortVar, loadConfig, sharedVars, type ConfigOf } from '@outpost/server-kit';

export const registryConfigSpec = {
  databaseUrl: sharedVars.databaseUrl,
  amqpUrl: sharedVars.amqpUrl,
  queuePrefix: sharedVars.queuePrefix,
  healthPort: healthPortVar(8091),
  internalToken: sharedVars.internalToken,
  adminToken: sharedVars.adminToken,
};
export type RegistryConfig = ConfigOf<typeof registryConfigSpec>;

export const REGISTRY_CONFIG = Symbol('REGISTRY_CONFIG');

export function loadRegistryConfig(env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  return loadConfig(registryConfigSpec, env);
}
