import { execFile } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const AGENT_BIN = path.join(ROOT, 'client-agent/bin/sync-agent.js');
const ADMIN_BIN = path.join(ROOT, 'admin-cli/bin/sync-admin.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Runs `sync-agent` as the laptop user would, in its own process; `input` is piped to its stdin. */
export function agent(args: string[], env?: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return run(AGENT_BIN, args, env, input);
}

/** Runs `sync-agent ... --json` and parses its output; fails with the command's stderr when it did not succeed. */
export async function agentJson<T = unknown>(args: string[], env?: NodeJS.ProcessEnv): Promise<T> {
  const result = await agent([...args, '--json'], env);
  if (result.code !== 0) {
    throw new Error(`sync-agent ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  }
  return JSON.parse(result.stdout) as T;
}

/** Runs `sync-admin` against the stack's admin API (`env` adds, e.g. NODE_EXTRA_CA_CERTS). */
export function admin(
  args: string[],
  stack: { adminUrl: string; adminToken: string },
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  return run(ADMIN_BIN, args, { SYNC_ADMIN_URL: stack.adminUrl, SYNC_ADMIN_TOKEN: stack.adminToken, ...env });
}

export async function adminJson<T = unknown>(
  args: string[],
  stack: { adminUrl: string; adminToken: string },
  env: NodeJS.ProcessEnv = {},
): Promise<T> {
  const result = await admin([...args, '--json'], stack, env);
  if (result.code !== 0) {
    throw new Error(`sync-admin ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  }
  return JSON.parse(result.stdout) as T;
}
