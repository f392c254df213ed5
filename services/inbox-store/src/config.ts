import { loadConfig, s3Vars, sharedVars, type ConfigOf } from '@outpost/server-kit';

export const inboxStoreConfigSpec = {
  databaseUrl: sharedVars.databaseUrl,
  amqpUrl: sharedVars.amqpUrl,
  queuePrefix: sharedVars.queuePrefix,
  port: sharedVars.inboxStorePort,
  internalToken: sharedVars.internalToken,
  ...s3Vars,
};
export type InboxStoreConfig = ConfigOf<typeof inboxStoreConfigSpec>;

export function loadInboxStoreConfig(env: NodeJS.ProcessEnv = process.env): InboxStoreConfig {
  return loadConfig(inboxStoreConfigSpec, env);
}
