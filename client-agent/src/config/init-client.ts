import * as fs from 'node:fs';
import { schemas } from '@outpost/schema';
import { AgentError, AgentErrorCode } from '../errors';
import { withLocalStore } from '../local-store/open-store';
import { SyncProgress } from '../progress/sync-progress';
import { runSync, SyncSummary } from '../sync/sync-session';
import { agentPaths, configProblems, SyncConfig, writeAgentConfig } from './agent-config';
import { FOLDER_MODE } from './folder-modes';
import { assertServerTransport } from './server-transport';

export interface InitResult {
  dir: string;
  client: string;
  server: string;
  sync: SyncSummary | null;
}

/**
 * Creates the client folder (config, 0600 credentials, local store with its triggers), then runs a
 * download-only sync for the initial extract. If the server cannot be reached the folder stays usable.
 */
export async function initClientFolder(
  cfg: Omit<SyncConfig, 'caFile'> & { caFile?: string },
  opts: { extract: boolean; extractTimeoutMs: number; progress: SyncProgress },
): Promise<InitResult> {
  const paths = agentPaths(cfg.dir);
  const problems = configProblems(cfg, true);
  if (!(cfg.schema in schemas)) problems.push(`schema "${cfg.schema}" is unknown`);
  if (problems.length > 0) {
    throw new AgentError(
      AgentErrorCode.ConfigInvalid,
      `cannot initialise ${cfg.dir}:\n  - ${problems.join('\n  - ')}`,
      { problems },
    );
  }
  if (fs.existsSync(paths.config)) {
    throw new AgentError(
      AgentErrorCode.DirNotEmpty,
      `${cfg.dir} is already a client folder (${paths.config} exists); run "sync-agent sync --dir ${cfg.dir}", or choose a new --dir`,
    );
  }
  // Before anything is written or sent: init would store the URL for every later sync.
  assertServerTransport(cfg.server, cfg.insecureHttp === true, '--server or SYNC_AGENT_SERVER');
  fs.mkdirSync(cfg.dir, { recursive: true, mode: FOLDER_MODE });
  // mkdir leaves an existing folder as it was, and its mode is reduced by the umask only.
  fs.chmodSync(cfg.dir, FOLDER_MODE);
  const full: SyncConfig = { ...cfg };
  if (!cfg.caFile) delete full.caFile;
  writeAgentConfig(full);
  await withLocalStore(full, { exclusive: true }, () => undefined);
  const result: InitResult = { dir: cfg.dir, client: cfg.client, server: cfg.server, sync: null };
  if (!opts.extract) return result;
  try {
    result.sync = await runSync(full, {
      upload: false,
      download: true,
      extractTimeoutMs: opts.extractTimeoutMs,
      progress: opts.progress,
    });
  } catch (err) {
    if (err instanceof AgentError && err.code === AgentErrorCode.ServerUnreachable) {
      throw new AgentError(
        AgentErrorCode.ServerUnreachable,
        `local store created in ${cfg.dir}, but cannot reach the sync server at ${cfg.server}: ${String(err.details.cause ?? 'no answer')}; ` +
          `run "sync-agent sync --dir ${cfg.dir}" when online to download the initial extract`,
        err.details,
      );
    }
    throw err;
  }
  return result;
}
