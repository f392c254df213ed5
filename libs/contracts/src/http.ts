/** Wire types of the gateway's agent API (port GATEWAY_PORT) and admin API (port ADMIN_PORT). */

export interface ErrorBody {
  error: { code: string; message: string; correlationId: string; details?: Record<string, unknown> };
}

export interface OpenSessionRequest {
  client: string;
  secret: string;
  agentVersion: string;
  formatVersion: number;
  /** The synced schema the laptop's store holds (agents before schema versions send none). */
  schema?: SchemaRef;
}

export interface SchemaRef {
  name: string;
  version: number;
}

/** One version of the synced schema and its steps from the previous one (a `SchemaVersionInput` of @outpost/schema). */
export interface SchemaVersionView {
  version: number;
  note?: string;
  steps: Array<Record<string, unknown>>;
}

/** The server's synced schema, and what a laptop behind it applies to catch up. */
export interface SessionSchema extends SchemaRef {
  /** The oldest laptop version the server still accepts. */
  oldestSupported: number;
  /** The versions after the laptop's, in order; empty when the laptop is up to date. */
  upgrade: SchemaVersionView[];
}
export interface OpenSessionResponse {
  sessionId: string;
  token: string;
  expiresAt: string;
  /** Highest file seq the server already holds for this client (0 for none). */
  lastUploadedFileSeq: number;
  /** The user login registered for this client; the agent records it on its transactions. */
  userLogin: string;
  /**
   * Highest client transaction seq of the files the server holds (0 for none): a laptop set up
   * again for this client numbers its changes after it (absent from older servers).
   */
  lastUploadedTxnSeq?: number;
  /** The server's synced schema, when the agent sent its own. */
  schema?: SessionSchema;
}

/** One of the client's upload files the server has not simply applied (`GET /v1/inbox`). */
export interface ClientInboxFile {
  fileSeq: number;
  status: 'received' | 'quarantined' | 'rejected';
  reason: string | null;
  rejection: string | null;
  /** Failures of the same kind so far (the applier quarantines the file at its limit). */
  attempts: number;
  lastError: string | null;
}
export interface ClientInboxResponse {
  /** The client's apply position: files and transactions applied (or rejected) so far. */
  appliedFileSeq: number;
  appliedTxnSeq: number;
  lastUploadedTxnSeq: number;
  /** Files received and not applied yet, quarantined ones, and the latest rejected ones, in order. */
  files: ClientInboxFile[];
}

export type UploadStatus = 'stored' | 'duplicate';
export interface UploadResponse {
  status: UploadStatus;
  fileSeq: number;
}

/**
 * A resumable upload's progress: the server holds the file's first `receivedBytes` bytes as parts
 * (for the whole file of this sha256); the next part starts there.
 */
export interface UploadPartsResponse {
  fileSeq: number;
  sha256: string;
  receivedBytes: number;
}
/** Ends a resumable upload: the parts held must make exactly `size` bytes of this sha256. */
export interface UploadCompleteRequest {
  sha256: string;
  size: number;
}

export interface OutboundFileView {
  fileSeq: number;
  kind: 'changes' | 'extract';
  size: number;
  sha256: string;
  txnCount: number;
}
export interface DownloadListResponse {
  epoch: number;
  files: OutboundFileView[];
  /** True while the router prepares this client's (re)extract; poll again shortly. */
  extractPending: boolean;
}
export interface DownloadAckRequest {
  epoch: number;
  upToFileSeq: number;
}

export interface SyncResult {
  ok: boolean;
  uploadedFiles: number;
  downloadedFiles: number;
  message?: string;
}
export interface CloseSessionRequest {
  result: SyncResult;
}

export type ClientStatus = 'active' | 'deactivated';
export interface ClientView {
  name: string;
  userLogin: string;
  status: ClientStatus;
  createdAt: string;
  lastSyncAt: string | null;
  lastSyncResult: SyncResult | null;
  /** When an administrator last asked for a re-extract (null: never). */
  extractRequestedAt?: string | null;
  /** Bumped by deactivate and rotate-secret; a session carries the epoch it was opened under. */
  credentialEpoch?: number;
}
export interface RejectFileRequest {
  reason: string;
}
export interface AddClientRequest {
  name: string;
  userLogin: string;
}
export interface ClientWithSecret {
  client: ClientView;
  /** Shown once; only a slow hash is stored. */
  secret: string;
}

/**
 * How far behind one client is, both ways (GET /admin/lag). Ages are in seconds, null when there is
 * nothing waiting; the routing figures are the router's, the same for every client.
 */
export interface ClientLagView {
  name: string;
  status: ClientStatus;
  lastSyncAt: string | null;
  /** Up: files received from the laptop and not applied yet (waiting or quarantined included). */
  inbox: {
    pendingFiles: number;
    pendingBytes: number;
    quarantinedFiles: number;
    oldestPendingAgeSeconds: number | null;
  };
  /** Down: files routed to the laptop that it has not acknowledged yet. */
  outbound: { unackedFiles: number; unackedBytes: number; oldestUnackedAgeSeconds: number | null };
  /** Server log entries the router has not routed yet, and how old the oldest is. */
  route: {
    pendingLogEntries: number;
    oldestPendingAgeSeconds: number | null;
    failures: number;
    lastError: string | null;
  };
}

/** refused: the file named another user; rejected: an administrator skipped it. Both move the client past the file. */
export type InboxFileStatus = 'received' | 'applied' | 'quarantined' | 'refused' | 'rejected';
export interface InboxFileView {
  client: string;
  fileSeq: number;
  status: InboxFileStatus;
  /** 'waiting' is derived: received but behind a quarantined or unapplied earlier file. */
  waiting: boolean;
  size: number;
  sha256: string;
  txnCount: number;
  /** Why it was quarantined (or failed its last attempt). */
  reason: string | null;
  /** The administrator's reason for rejecting it; set from the request until the applier skips it. */
  rejection: string | null;
  receivedAt: string;
  appliedAt: string | null;
}

export type ConflictKind = 'update-update' | 'update-delete' | 'duplicate-key';
export interface ConflictView {
  id: string;
  at: string;
  kind: ConflictKind;
  table: string;
  rowId: string;
  column: string | null;
  serverValue: unknown;
  clientValue: unknown;
  serverOrigin: string | null;
  clientOrigin: string;
  serverAt: string | null;
  /** The change time the laptop gave. */
  clientAt: string;
  /**
   * Set when the laptop's time was later than the server received its file: latest-wins compared
   * this time instead, so a laptop clock set in the future cannot win for ever.
   */
  clientAtClamped?: string | null;
  policy: string;
  winner: 'server' | 'client';
}

/**
 * The router's change capture as the administrator sees it (`GET /admin/capture`): its replication
 * slot and how far it is behind the server's WAL. `position` is the stream position up to which the
 * transaction log is complete; `lagSeconds` is 0 when the slot has caught up, otherwise the time
 * since the capture last wrote its position.
 */
export interface CaptureStatusView {
  slotName: string | null;
  slotExists: boolean;
  active: boolean;
  walStatus: string | null;
  lagBytes: number | null;
  lagSeconds: number | null;
  position: string | null;
  positionUpdatedAt: string | null;
}

/** A failed or refused session open (`GET /admin/auth-audit`, `sync-admin auth-audit list`). */
export interface AuthAuditView {
  id: number;
  at: string;
  /** The name the caller gave, registered or not. */
  clientName: string;
  sourceAddress: string;
  /** `failed`: the registry refused the credentials; `refused`: rate-limited before asking it. */
  outcome: 'failed' | 'refused';
  code: string;
}
