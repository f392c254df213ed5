import * as fs from 'node:fs';
import { schemas } from '@outpost/schema';
import { agentPaths, AgentConfig } from '../config/agent-config';
import { acquireAgentLock } from './agent-lock';
import { LocalStore } from './local-store';

/** Opens the client folder's store for one command; `exclusive` also takes the folder lock. */
export async function withLocalStore<T>(
  cfg: AgentConfig,
  opts: { exclusive: boolean },
  work: (store: LocalStore) => Promise<T> | T,
): Promise<T> {
  const paths = agentPaths(cfg.dir);
  const release = opts.exclusive ? acquireAgentLock(paths.lock) : () => undefined;
  try {
    for (const dir of [paths.outbox, paths.sent, paths.inbox]) fs.mkdirSync(dir, { recursive: true });
    const store = LocalStore.open(paths.db, schemas[cfg.schema]);
    try {
      return await work(store);
    } finally {
      store.close();
    }
  } finally {
    release();
  }
}
