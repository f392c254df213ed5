import { randomUUID } from 'node:crypto';
import { DX_VERSION } from '@outpost/dx-format';
import type {
  ClientInboxResponse,
  ConflictView,
  OpenSessionResponse,
  RefusalView,
  SyncResult,
} from '@outpost/contracts';
import type { SchemaVersionInput } from '@outpost/schema';
import { agentPaths, SyncConfig } from '../config/agent-config';
import { assertServerTransport } from '../config/server-transport';
import { AgentError, AgentErrorCode } from '../errors';
import { DownloadApplier } from '../local-store/download-applier';
import { LocalStore, SchemaUpgrade, StateKey } from '../local-store/local-store';
import { withLocalStore } from '../local-store/open-store';
import { DEFAULT_KEEP_DAYS, DEFAULT_MAX_PER_FILE, ExtractHooks, Outbox } from '../outbox/outbox';
import { SyncProgress } from '../progress/sync-progress';
import { AGENT_VERSION } from '../version';
import { CrashPoint } from './crash-point';
import { downloadInbox } from './download';
import { GatewayClient } from './gateway-client';
import { adoptServerPosition } from './server-position';
import { TransferTotals, uploadOutbox } from './upload';

export interface SyncOptions {
  upload: boolean;
  download: boolean;
  extractTimeoutMs: number;
  progress: SyncProgress;
  maxPerFile?: number;
  /** Days sent outbox files are kept (default 7); pruned at the end of a successful sync. */
  keepSentDays?: number;
  extractHooks?: ExtractHooks;
  crashAt?: CrashPoint;
  /** Files larger than this go in parts that survive a cut connection (default 8 MiB). */
  uploadPartBytes?: number;
}

export interface SyncSummary {
  uploaded: TransferTotals;
  downloaded: TransferTotals;
  /** Upload files the server already held from an interrupted earlier sync. */
  alreadyOnServer: number;
  conflicts: number;
  /** Changes of this laptop the server refused that this sync learned of. */
  refused: number;
  durationMs: number;
  /** The local store's schema upgrade this sync applied, if any. */
  schemaUpgrade?: SchemaUpgrade;
  /** Sent with every request of the session: the server's log lines of this sync carry it. */
  correlationId?: string;
}

/** What `status` shows about the last sync; kept in `_outpost_state`. */
export interface LastSync {
  at: string;
  ok: boolean;
  message: string | null;
  uploadedFiles: number;
  downloadedFiles: number;
}

const DAY_MS = 86_400_000;

const empty = (): TransferTotals => ({ files: 0, txns: 0, bytes: 0 });

/**
 * One sync session: extract pending changes, open a session, upload the outbox, download and apply,
 * fetch conflicts, close the session with the result. Every step is safe to repeat after a failure.
 */
export async function runSync(cfg: SyncConfig, opts: SyncOptions): Promise<SyncSummary> {
  // The commands check this with a better hint of where the URL came from; this guards every other caller.
  assertServerTransport(cfg.server, cfg.insecureHttp === true, 'the sync configuration');
  const started = Date.now();
  return withLocalStore(cfg, { exclusive: true }, async (store) => {
    const paths = agentPaths(cfg.dir);
    const outbox = new Outbox(store, paths, cfg.client, opts.extractHooks);
    await outbox.extract(opts.maxPerFile ?? DEFAULT_MAX_PER_FILE);
    const correlationId = randomUUID();
    const client = new GatewayClient(cfg.server, { caFile: cfg.caFile, correlationId });
    const summary: SyncSummary = {
      uploaded: empty(),
      downloaded: empty(),
      alreadyOnServer: 0,
      conflicts: 0,
      refused: 0,
      durationMs: 0,
      correlationId,
    };
    let sessionOpen = false;
    try {
      const session = await openSession(client, cfg, store);
      sessionOpen = true;
      store.setState(StateKey.userLogin, session.userLogin);
      // Before the upload: files already in the outbox keep the version they were written under.
      const upgrade = store.upgrade((session.schema?.upgrade ?? []) as unknown as SchemaVersionInput[]);
      if (upgrade) summary.schemaUpgrade = upgrade;
      if (adoptServerPosition(store, paths.outbox, session)) await outbox.recover();
      if (opts.upload) {
        const up = await uploadOutbox(client, outbox, cfg.client, opts.progress, {
          crashAt: opts.crashAt,
          partBytes: opts.uploadPartBytes,
        });
        summary.uploaded = { files: up.files, txns: up.txns, bytes: up.bytes };
        summary.alreadyOnServer = up.alreadyOnServer;
      }
      if (opts.download) {
        summary.downloaded = await downloadInbox(client, new DownloadApplier(store), {
          inboxDir: paths.inbox,
          clientName: cfg.client,
          extractTimeoutMs: opts.extractTimeoutMs,
          progress: opts.progress,
          crashAt: opts.crashAt,
        });
      }
      store.setJsonState(StateKey.serverInbox, (await client.inboxState()) satisfies ClientInboxResponse);
      const conflicts = await client.conflicts();
      store.setJsonState(StateKey.lastConflicts, conflicts satisfies ConflictView[]);
      summary.conflicts = conflicts.length;
      summary.refused = learnRefusals(store, await client.refusals());
      const result = syncResult(summary, true, null);
      await client.closeSession({ result });
      sessionOpen = false;
      recordLastSync(store, result);
      outbox.pruneSent(new Date(Date.now() - (opts.keepSentDays ?? DEFAULT_KEEP_DAYS) * DAY_MS));
      summary.durationMs = Date.now() - started;
      return summary;
    } catch (err) {
      const error = explain(err, outbox);
      const result = syncResult(summary, false, error.message);
      recordLastSync(store, result);
      if (sessionOpen) await client.closeSession({ result }).catch(() => undefined);
      throw error;
    } finally {
      opts.progress.stop();
      client.close();
    }
  });
}

/** Keeps the server's refusals for `status`; returns how many were not known before. */
function learnRefusals(store: LocalStore, refusals: RefusalView[]): number {
  const known = new Set((store.getJsonState<RefusalView[]>(StateKey.lastRefusals) ?? []).map((r) => r.id));
  store.setJsonState(StateKey.lastRefusals, refusals);
  return refusals.filter((r) => !known.has(r.id)).length;
}

/**
 * Opens the session with the store's schema version. A store that never synced and holds nothing,
 * set up by an agent newer than the server, is recreated at the server's version and the session
 * asked for again; any other refusal is the server's message (what to do, nothing lost).
 */
async function openSession(
  client: GatewayClient,
  cfg: SyncConfig,
  store: LocalStore,
): Promise<OpenSessionResponse> {
  const open = () =>
    client.openSession({
      client: cfg.client,
      secret: cfg.secret,
      agentVersion: AGENT_VERSION,
      formatVersion: DX_VERSION,
      schema: { name: store.schema.name, version: store.schema.version },
    });
  try {
    return await open();
  } catch (err) {
    const server = serverSchemaOf(err);
    if (
      err instanceof AgentError &&
      err.details.serverCode === 'SCHEMA_TOO_NEW' &&
      server &&
      store.resetTo(server.version)
    )
      return open();
    throw err;
  }
}

function serverSchemaOf(err: unknown): { version: number } | null {
  if (!(err instanceof AgentError)) return null;
  const server = (err.details.serverDetails as { server?: { version?: unknown } } | undefined)?.server;
  return typeof server?.version === 'number' ? { version: server.version } : null;
}

function syncResult(summary: SyncSummary, ok: boolean, message: string | null): SyncResult {
  const result: SyncResult = {
    ok,
    uploadedFiles: summary.uploaded.files,
    downloadedFiles: summary.downloaded.files,
  };
  if (message !== null) result.message = message;
  return result;
}

function recordLastSync(store: LocalStore, result: SyncResult): void {
  const last: LastSync = {
    at: new Date().toISOString(),
    ok: result.ok,
    message: result.message ?? null,
    uploadedFiles: result.uploadedFiles,
    downloadedFiles: result.downloadedFiles,
  };
  store.setJsonState(StateKey.lastSync, last);
}

/** An unreachable server is the normal offline case: say that nothing is lost and what to do. */
function explain(err: unknown, outbox: Outbox): Error {
  if (err instanceof AgentError && err.code === AgentErrorCode.ServerUnreachable) {
    const files = outbox.waitingFiles().length;
    return new AgentError(
      AgentErrorCode.ServerUnreachable,
      `${err.message}; your changes are safe in the outbox (${files} file${files === 1 ? '' : 's'}); try again when online`,
      { ...err.details, outboxFiles: files },
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}
