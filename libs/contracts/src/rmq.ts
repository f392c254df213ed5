/** RabbitMQ queue names and message patterns. Every queue name is prefixed with QUEUE_PREFIX. */
import type { SyncResult } from './http';

export const queues = {
  registryRpc: 'registry.rpc',
  inboxStoreRpc: 'inbox-store.rpc',
  dxInbox: 'dx.inbox',
  routerKick: 'router.kick',
} as const;
export type QueueKey = keyof typeof queues;

export function queueName(prefix: string, key: QueueKey): string {
  return prefix ? `${prefix}.${queues[key]}` : queues[key];
}

export const patterns = {
  registryAuthenticate: 'registry.authenticate',
  registryAdd: 'registry.add',
  registryList: 'registry.list',
  registryGet: 'registry.get',
  registryDeactivate: 'registry.deactivate',
  registryReactivate: 'registry.reactivate',
  registryRotateSecret: 'registry.rotate-secret',
  registryRecordSync: 'registry.record-sync',
  registryReextract: 'registry.reextract',
  inboxList: 'inbox.list',
  inboxRetry: 'inbox.retry',
  inboxReject: 'inbox.reject',
  dxFileReceived: 'dx.file.received',
  routerKick: 'router.kick',
} as const;

export interface AuthenticateMessage {
  name: string;
  secret: string;
}
export interface ClientNameMessage {
  name: string;
}
export interface DxFileReceivedEvent {
  client: string;
  fileSeq: number;
  objectKey: string;
  sha256: string;
  size: number;
}
export interface RouterKickEvent {
  reason: string;
  client?: string;
}
export interface InboxRetryMessage {
  client: string;
  fileSeq: number;
}
export interface InboxRejectMessage {
  client: string;
  fileSeq: number;
  /** Why the administrator skips the file; kept with it. */
  reason: string;
}
export interface AddClientMessage {
  name: string;
  userLogin: string;
}
export interface RecordSyncMessage {
  name: string;
  result: SyncResult;
}
export interface InboxListMessage {
  client: string;
}
/** Header that carries the caller's correlation id on every RPC request. */
export const CORRELATION_HEADER = 'x-correlation-id';
/** RPC message header with the service token (INTERNAL_TOKEN) every RPC server requires. */
export const INTERNAL_TOKEN_HEADER = 'x-internal-token';
/** RPC message header with the admin token the administrators' patterns also require. */
export const ADMIN_TOKEN_HEADER = 'x-admin-token';
