import * as fs from 'node:fs';
import * as path from 'node:path';
import { isValidClientName } from '@outpost/contracts';
import { schemas } from '@outpost/schema';
import { AgentError, AgentErrorCode } from '../errors';
import { assertServerTransport } from './server-transport';

const SECRET_SOURCES = '--secret, SYNC_AGENT_SECRET or --secret-stdin';

/** What `<dir>/agent.json` holds; the secret lives apart in `<dir>/credentials.json` (mode 0600). */
export interface AgentFileConfig {
  server: string;
  client: string;
  caFile?: string;
  /** Name of the synced schema; the store records its version. */
  schema: string;
}

export interface AgentConfig extends AgentFileConfig {
  dir: string;
}

export interface SyncConfig extends AgentConfig {
  secret: string;
  /** --insecure-http for this run: plain http:// to a host other than loopback. Never stored. */
  insecureHttp?: boolean;
}

/** Values given on the command line or in the environment; they win over the files. */
export type ConfigOverrides = Partial<
  Pick<SyncConfig, 'server' | 'client' | 'caFile' | 'secret' | 'insecureHttp'>
>;

export const agentPaths = (dir: string) => ({
  config: path.join(dir, 'agent.json'),
  credentials: path.join(dir, 'credentials.json'),
  db: path.join(dir, 'local.db'),
  outbox: path.join(dir, 'outbox'),
  sent: path.join(dir, 'outbox', 'sent'),
  inbox: path.join(dir, 'inbox'),
  lock: path.join(dir, 'agent.lock'),
});

/** Collects every problem so one message lists them all. */
export function configProblems(cfg: Partial<SyncConfig>, needSecret: boolean): string[] {
  const problems: string[] = [];
  if (!cfg.server) problems.push('server URL is missing (--server or SYNC_AGENT_SERVER)');
  else {
    let url: URL | null = null;
    try {
      url = new URL(cfg.server);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      problems.push(`server "${cfg.server}" is not an http:// or https:// URL`);
    }
  }
  if (!cfg.client) problems.push('client name is missing (--client or SYNC_AGENT_CLIENT)');
  else if (!isValidClientName(cfg.client)) {
    problems.push(`client name "${cfg.client}" must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`);
  }
  if (needSecret && !cfg.secret) problems.push(`secret is missing (${SECRET_SOURCES})`);
  if (cfg.caFile && !fs.existsSync(cfg.caFile))
    problems.push(`CA file "${cfg.caFile}" does not exist (--ca or SYNC_AGENT_CA_FILE)`);
  if (cfg.schema && !(cfg.schema in schemas)) {
    problems.push(`schema "${cfg.schema}" is unknown (one of ${Object.keys(schemas).join(', ')})`);
  }
  return problems;
}

function invalid(where: string, problems: string[]): AgentError {
  return new AgentError(
    AgentErrorCode.ConfigInvalid,
    `invalid configuration in ${where}:\n  - ${problems.join('\n  - ')}`,
    {
      problems,
    },
  );
}

export function writeAgentConfig(cfg: SyncConfig): void {
  const problems = configProblems(cfg, true);
  if (problems.length > 0) throw invalid('the options', problems);
  const paths = agentPaths(cfg.dir);
  const file: AgentFileConfig = { server: cfg.server, client: cfg.client, schema: cfg.schema };
  if (cfg.caFile) file.caFile = path.resolve(cfg.caFile);
  fs.writeFileSync(paths.config, `${JSON.stringify(file, null, 2)}\n`);
  fs.writeFileSync(paths.credentials, `${JSON.stringify({ secret: cfg.secret }, null, 2)}\n`, {
    mode: 0o600,
  });
  // writeFileSync keeps the mode of an existing file, so set it explicitly.
  fs.chmodSync(paths.credentials, 0o600);
}

function readJson(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new AgentError(
      AgentErrorCode.ConfigMissing,
      `no ${what} at ${file}: run "sync-agent init --dir ${path.dirname(file)} ..." first, or pass --dir (SYNC_AGENT_DIR)`,
    );
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new AgentError(
    AgentErrorCode.ConfigInvalid,
    `${file} is not a JSON object; fix or recreate it with "sync-agent init"`,
  );
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The configuration for local commands (exec, query, extract, status): no secret needed. */
export function loadAgentConfig(dir: string, overrides: ConfigOverrides = {}): AgentConfig {
  const paths = agentPaths(dir);
  const file = readJson(paths.config, 'agent configuration');
  const cfg: AgentConfig = {
    dir,
    server: overrides.server ?? str(file.server) ?? '',
    client: overrides.client ?? str(file.client) ?? '',
    schema: str(file.schema) ?? 'sales',
  };
  const caFile = overrides.caFile ?? str(file.caFile);
  if (caFile) cfg.caFile = caFile;
  const problems = configProblems(cfg, false);
  if (problems.length > 0) throw invalid(paths.config, problems);
  return cfg;
}

/**
 * The configuration for talking to the server: adds the secret from credentials.json (or an
 * override), and refuses plain http:// to another machine before anything is read or sent.
 */
export function loadSyncConfig(dir: string, overrides: ConfigOverrides = {}): SyncConfig {
  const cfg = loadAgentConfig(dir, overrides);
  const paths = agentPaths(dir);
  const insecureHttp = overrides.insecureHttp === true;
  assertServerTransport(
    cfg.server,
    insecureHttp,
    overrides.server !== undefined ? '--server or SYNC_AGENT_SERVER' : paths.config,
  );
  const secret = overrides.secret ?? str(readJson(paths.credentials, 'credentials file').secret);
  if (!secret) throw invalid(paths.credentials, [`secret is missing (${SECRET_SOURCES})`]);
  return insecureHttp ? { ...cfg, secret, insecureHttp } : { ...cfg, secret };
}
