import * as fs from 'node:fs';
import { schemas, SchemaHistory } from '@outpost/schema';
import { AgentError, AgentErrorCode } from '../errors';
import { agentPaths, AgentConfig } from '../config/agent-config';
import { createPrivateFile, FOLDER_MODE, secureAgentFolder } from '../config/folder-modes';
import { acquireAgentLock } from './agent-lock';
import { LocalStore } from './local-store';

function historyOf(name: string): SchemaHistory {
  const history = schemas[name];
  if (!history)
    throw new AgentError(
      AgentErrorCode.ConfigInvalid,
      `schema "${name}" is unknown to this agent (one of ${Object.keys(schemas).join(', ')})`,
    );
  return history;
}

/** Opens the client folder's store for one command; `exclusive` also takes the folder lock. */
export async function withLocalStore<T>(
  cfg: AgentConfig,
  opts: { exclusive: boolean },
  work: (store: LocalStore) => Promise<T> | T,
): Promise<T> {
  const paths = agentPaths(cfg.dir);
  const release = opts.exclusive ? acquireAgentLock(paths.lock) : () => undefined;
  try {
    for (const dir of [paths.outbox, paths.sent, paths.inbox])
      fs.mkdirSync(dir, { recursive: true, mode: FOLDER_MODE });
    createPrivateFile(paths.db);
    const store = LocalStore.open(paths.db, historyOf(cfg.schema));
    try {
      // After opening: SQLite has created -wal and -shm by now.
      secureAgentFolder(cfg.dir);
      return await work(store);
    } finally {
      store.close();
    }
  } finally {
    release();
  }
}
