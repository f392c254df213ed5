import type { ConflictView } from '@outpost/contracts';
import { AgentConfig } from '../config/agent-config';
import { LastSync } from '../sync/sync-session';
import { LocalStore, StateKey } from './local-store';
import { LogRepository } from './log.repository';

export interface AgentStatus {
  client: string;
  server: string;
  userLogin: string | null;
  /** Local changes not yet put in an outbox file. */
  pendingTransactions: number;
  /** Outbox files written and not yet acknowledged by the server. */
  outboxFiles: number;
  /** Changes the server received but has not confirmed as applied. */
  awaitingConfirmation: number;
  download: { epoch: number; fileSeq: number };
  lastSync: LastSync | null;
  conflicts: ConflictView[];
}

export function readStatus(cfg: AgentConfig, store: LocalStore): AgentStatus {
  const log = new LogRepository(store);
  return {
    client: cfg.client,
    server: cfg.server,
    userLogin: store.getState(StateKey.userLogin),
    pendingTransactions: log.pendingCount(),
    outboxFiles: log.filesWithStatus('assigned', 'written').length,
    awaitingConfirmation: log.awaitingConfirmationCount(),
    download: {
      epoch: Number(store.getState(StateKey.downloadEpoch) ?? 0),
      fileSeq: Number(store.getState(StateKey.downloadFileSeq) ?? 0),
    },
    lastSync: store.getJsonState<LastSync>(StateKey.lastSync),
    conflicts: store.getJsonState<ConflictView[]>(StateKey.lastConflicts) ?? [],
  };
}
