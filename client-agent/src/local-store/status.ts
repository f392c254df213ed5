import type { ClientInboxResponse, ConflictView, RefusalView } from '@outpost/contracts';
import { AgentConfig } from '../config/agent-config';
import { LastSync } from '../sync/sync-session';
import { LocalStore, StateKey } from './local-store';
import { LogRepository } from './log.repository';

export interface AgentStatus {
  client: string;
  server: string;
  userLogin: string | null;
  /** The synced schema the local store holds. */
  schema: { name: string; version: number };
  /** Local changes not yet put in an outbox file. */
  pendingTransactions: number;
  /** Outbox files written and not yet acknowledged by the server. */
  outboxFiles: number;
  /** Changes the server received but has not confirmed as applied. */
  awaitingConfirmation: number;
  download: { epoch: number; fileSeq: number };
  lastSync: LastSync | null;
  conflicts: ConflictView[];
  /** The server's view of this client's uploads at the last sync (null before the first). */
  serverInbox: ClientInboxResponse | null;
  /** What the laptop waits for, in words, each with what to do about it; empty when nothing waits. */
  waitingFor: string[];
  /** Files the administrator rejected: their changes were refused and the rows set back. */
  rejected: string[];
  /** This laptop's changes the server refused, as of the last sync. */
  refusals: RefusalView[];
}

export function readStatus(cfg: AgentConfig, store: LocalStore): AgentStatus {
  const log = new LogRepository(store);
  const status = {
    client: cfg.client,
    server: cfg.server,
    userLogin: store.getState(StateKey.userLogin),
    schema: { name: store.schema.name, version: store.schema.version },
    pendingTransactions: log.pendingCount(),
    outboxFiles: log.filesWithStatus('assigned', 'written').length,
    awaitingConfirmation: log.awaitingConfirmationCount(),
    download: {
      epoch: Number(store.getState(StateKey.downloadEpoch) ?? 0),
      fileSeq: Number(store.getState(StateKey.downloadFileSeq) ?? 0),
    },
    lastSync: store.getJsonState<LastSync>(StateKey.lastSync),
    conflicts: store.getJsonState<ConflictView[]>(StateKey.lastConflicts) ?? [],
    serverInbox: store.getJsonState<ClientInboxResponse>(StateKey.serverInbox),
    refusals: store.getJsonState<RefusalView[]>(StateKey.lastRefusals) ?? [],
  };
  return { ...status, ...explainWaits(status) };
}

type Counts = Omit<AgentStatus, 'waitingFor' | 'rejected'>;

/** Says what holds the laptop's changes back, from the local counts and the server's inbox view. */
export function explainWaits(s: Counts): { waitingFor: string[]; rejected: string[] } {
  const waitingFor: string[] = [];
  const rejected: string[] = [];
  if (s.pendingTransactions > 0)
    waitingFor.push(`${s.pendingTransactions} local changes wait for the next "sync-agent sync" to be sent`);
  if (s.outboxFiles > 0)
    waitingFor.push(`${s.outboxFiles} outbox files wait to be uploaded; run "sync-agent sync" when online`);
  let blockedBy: number | null = null;
  for (const f of s.serverInbox?.files ?? []) {
    if (f.status === 'rejected') {
      rejected.push(
        `file ${f.fileSeq} was rejected by your administrator (${f.rejection ?? 'no reason given'}): its changes were ` +
          `refused and the rows it touched were set back to the server's state`,
      );
    } else if (f.status === 'quarantined') {
      waitingFor.push(
        `file ${f.fileSeq} is quarantined on the server: ${f.reason ?? 'no reason recorded'}; ask your administrator ` +
          `to retry it ("sync-admin inbox retry ${s.client} ${f.fileSeq}") once the cause is fixed, or to reject it ` +
          `("sync-admin inbox reject ${s.client} ${f.fileSeq} --reason ...")`,
      );
      blockedBy ??= f.fileSeq;
    } else if (f.rejection) {
      waitingFor.push(
        `file ${f.fileSeq} is being rejected on the server (${f.rejection}); sync again shortly`,
      );
    } else if (blockedBy !== null) {
      waitingFor.push(`file ${f.fileSeq} waits on the server behind file ${blockedBy}`);
    } else if (f.attempts > 0) {
      waitingFor.push(
        `file ${f.fileSeq} failed ${f.attempts} times on the server (${f.lastError ?? 'unknown error'}); it is retried`,
      );
    } else {
      waitingFor.push(
        `file ${f.fileSeq} is received by the server and waits to be applied; sync again shortly`,
      );
    }
  }
  const onServer = (s.serverInbox?.files ?? []).some(
    (f) => f.status === 'received' || f.status === 'quarantined',
  );
  if (s.awaitingConfirmation > 0 && !onServer)
    waitingFor.push(
      `${s.awaitingConfirmation} sent changes wait for the server's confirmation; it comes with the next "sync-agent sync"`,
    );
  return { waitingFor, rejected };
}
