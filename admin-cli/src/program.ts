import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import type { ClientWithSecret } from '@outpost/contracts';
import { AdminApi, AdminApiError, DEFAULT_TIMEOUT_MS, type FailureClass, type FetchFn } from './admin-api';
import {
  authAuditTable,
  captureText,
  clientsTable,
  conflictsTable,
  inboxTable,
  lagTable,
  refusalsTable,
} from './format';

export interface CliIo {
  out(text: string): void;
  env: NodeJS.ProcessEnv;
  fetch?: FetchFn;
}

interface GlobalOpts {
  server?: string;
  token?: string;
  timeout?: number;
  json?: boolean;
}

/** Exit codes by failure class; documented in the README and `sync-admin --help`. */
export const EXIT_CODES: Record<FailureClass | 'ok', number> = {
  ok: 0,
  server: 1,
  usage: 2,
  refused: 3,
  unreachable: 4,
};

/** The package's own version, read beside dist/ (or src/ under the test runner). */
const VERSION = (
  JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
).version;

function apiFrom(cmd: Command, io: CliIo): AdminApi {
  const opts = cmd.optsWithGlobals<GlobalOpts>();
  const server = opts.server ?? io.env.SYNC_ADMIN_URL;
  const token = opts.token ?? io.env.SYNC_ADMIN_TOKEN;
  if (!server)
    throw new AdminApiError(
      'no server: pass --server URL or set SYNC_ADMIN_URL (the gateway admin port, e.g. http://host:8081)',
      'USAGE',
      'usage',
    );
  if (!token)
    throw new AdminApiError('no admin token: pass --token TOKEN or set SYNC_ADMIN_TOKEN', 'USAGE', 'usage');
  const timeout =
    opts.timeout ?? (io.env.SYNC_ADMIN_TIMEOUT ? seconds(io.env.SYNC_ADMIN_TIMEOUT) : undefined);
  return new AdminApi(server, token, io.fetch, timeout === undefined ? DEFAULT_TIMEOUT_MS : timeout * 1000);
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) {
    throw new AdminApiError(
      `timeout must be a number of seconds between 0 and 3600, got "${value}"`,
      'USAGE',
      'usage',
    );
  }
  return n;
}

function timeoutArg(value: string): number {
  try {
    return seconds(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function fileSeqArg(value: string): number {
  if (!/^\d{1,10}$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';

function secretText(verb: string, res: ClientWithSecret): string {
  return (
    `Client ${res.client.name} ${verb}. Its secret is shown only this once (the server keeps only a hash); give it to the laptop now:\n` +
    `  ${res.secret}\n`
  );
}

const EXIT_HELP = `
Exit codes: 0 done; 1 the server failed; 2 usage (bad command line, no --server or --token);
3 refused by the admin API (bad token, unknown client, invalid value); 4 unreachable (no answer,
timeout, or something other than the admin API answered). With --json, results and errors are
JSON on stdout; an error is {"error": {"class", "code", "message", "correlationId"}}.`;

/** The `sync-admin` command tree. Actions throw; only the entry point decides the exit code. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('sync-admin')
    .description(
      'Administer Outpost sync: clients, server inboxes, lag, conflicts (through the gateway admin API)',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .option('--server <url>', 'admin API URL (env SYNC_ADMIN_URL)')
    .option('--token <token>', 'admin token (env SYNC_ADMIN_TOKEN)')
    .option(
      '--timeout <seconds>',
      'give up on a request after this long (env SYNC_ADMIN_TIMEOUT; default 30)',
      timeoutArg,
    )
    .option('--json', 'print JSON, errors included')
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', EXIT_HELP)
    .showHelpAfterError()
    .exitOverride();
  const wantsJson = (cmd: Command) => cmd.optsWithGlobals<GlobalOpts>().json === true;

  const clients = program.command('clients').description('register and manage remote clients (laptops)');
  clients
    .command('add <name>')
    .description('register a client; prints its secret once')
    .requiredOption('--user <login>', 'login of the user whose data the client receives')
    .action(async (name: string, opts: { user: string }, cmd: Command) => {
      const res = await apiFrom(cmd, io).addClient(name, opts.user);
      io.out(wantsJson(cmd) ? json(res) : secretText('added', res));
    });
  clients
    .command('list')
    .description('list clients with their last sync')
    .action(async (_opts: unknown, cmd: Command) => {
      const list = await apiFrom(cmd, io).listClients();
      io.out(wantsJson(cmd) ? json(list) : clientsTable(list));
    });
  clients
    .command('deactivate <name>')
    .description('stop a client from synchronizing')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const view = await apiFrom(cmd, io).deactivate(name);
      io.out(wantsJson(cmd) ? json(view) : `Client ${name} deactivated.\n`);
    });
  clients
    .command('reactivate <name>')
    .description('let a deactivated client synchronize again (with the secret it holds)')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const view = await apiFrom(cmd, io).reactivate(name);
      io.out(wantsJson(cmd) ? json(view) : `Client ${name} is active again.\n`);
    });
  clients
    .command('rotate-secret <name>')
    .description('issue a new secret; the old one stops working')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const res = await apiFrom(cmd, io).rotateSecret(name);
      io.out(wantsJson(cmd) ? json(res) : secretText('has a new secret', res));
    });
  clients
    .command('reextract <name>')
    .description('rebuild the client database from the server on its next sync')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const view = await apiFrom(cmd, io).reextract(name);
      io.out(
        wantsJson(cmd)
          ? json(view)
          : `Re-extract requested for ${name}; it receives a fresh database on its next sync.\n`,
      );
    });

  const inbox = program
    .command('inbox')
    .description("show a client's server inbox (received, applied, waiting, quarantined)")
    .argument('<name>', 'client name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const files = await apiFrom(cmd, io).inbox(name);
      io.out(wantsJson(cmd) ? json(files) : inboxTable(name, files));
    });
  inbox
    .command('retry <name> <fileSeq>')
    .description('put a quarantined file back in line to be applied')
    .action(async (name: string, fileSeq: string, _opts: unknown, cmd: Command) => {
      const view = await apiFrom(cmd, io).retry(name, fileSeqArg(fileSeq));
      io.out(
        wantsJson(cmd)
          ? json(view)
          : `File ${view.fileSeq} of ${name} is ${view.status} again and will be applied.\n`,
      );
    });

  inbox
    .command('reject <name> <fileSeq>')
    .description(
      "skip a quarantined file for good: its changes are refused, the client's later files apply, and the laptop gets the server's rows back",
    )
    .requiredOption('--reason <text>', 'why the file is skipped (kept with the file)')
    .action(async (name: string, fileSeq: string, opts: { reason: string }, cmd: Command) => {
      const view = await apiFrom(cmd, io).reject(name, fileSeqArg(fileSeq), opts.reason);
      io.out(
        wantsJson(cmd)
          ? json(view)
          : `File ${view.fileSeq} of ${name} is rejected: its changes are refused, the later files apply, and ` +
              `the laptop gets the server's rows back on its next sync.\n`,
      );
    });

  program
    .command('lag')
    .description('how far behind each client is: files waiting both ways, last sync, apply and routing lag')
    .option('--client <name>', 'only this client')
    .action(async (opts: { client?: string }, cmd: Command) => {
      const list = await apiFrom(cmd, io).lag(opts.client);
      io.out(wantsJson(cmd) ? json(list) : lagTable(list));
    });

  const conflicts = program.command('conflicts').description('conflicts the server resolved');
  conflicts
    .command('list')
    .description('list conflicts, newest first')
    .option('--client <name>', 'only conflicts of this client')
    .action(async (opts: { client?: string }, cmd: Command) => {
      const list = await apiFrom(cmd, io).conflicts(opts.client);
      io.out(wantsJson(cmd) ? json(list) : conflictsTable(list));
    });

  program
    .command('capture')
    .description("the server's change capture: its replication slot and how far it is behind")
    .action(async (_opts: unknown, cmd: Command) => {
      const status = await apiFrom(cmd, io).capture();
      io.out(wantsJson(cmd) ? json(status) : captureText(status));
    });

  const refusals = program
    .command('refusals')
    .description("laptops' changes the server refused (not visible to the user, not allowed by the schema)");
  refusals
    .command('list')
    .description('list refused changes, newest first')
    .option('--client <name>', 'only refusals of this client')
    .action(async (opts: { client?: string }, cmd: Command) => {
      const list = await apiFrom(cmd, io).refusals(opts.client);
      io.out(wantsJson(cmd) ? json(list) : refusalsTable(list));
    });

  const authAudit = program
    .command('auth-audit')
    .description('failed and rate-limited session opens: who tried which client name, from where');
  authAudit
    .command('list')
    .description('list failed and refused session opens, newest first')
    .option('--client <name>', 'only attempts on this client name')
    .action(async (opts: { client?: string }, cmd: Command) => {
      const list = await apiFrom(cmd, io).authAudit(opts.client);
      io.out(wantsJson(cmd) ? json(list) : authAuditTable(list));
    });

  return program;
}

/** A failure as the CLI reports it: its class (and so its exit code), stable code and message. */
export interface Failure {
  failureClass: FailureClass;
  code: string;
  message: string;
  correlationId?: string;
}

export function failureOf(err: unknown): Failure {
  if (err instanceof AdminApiError) {
    return {
      failureClass: err.failureClass,
      code: err.code,
      message: err.message,
      correlationId: err.correlationId,
    };
  }
  const commander = err as { code?: string; message?: string };
  if (typeof commander.code === 'string' && commander.code.startsWith('commander.')) {
    return {
      failureClass: 'usage',
      code: 'USAGE',
      message: (commander.message ?? '').replace(/^error: /, ''),
    };
  }
  return {
    failureClass: 'server',
    code: 'INTERNAL',
    message: err instanceof Error ? err.message : String(err),
  };
}

/** One line for any failure: `error: <message> (code, correlation id)`. */
export function errorLine(err: unknown): string {
  const failure = failureOf(err);
  const where = [
    failure.code === 'USAGE' || failure.code === 'UNREACHABLE' ? undefined : failure.code,
    failure.correlationId && `correlation id ${failure.correlationId}`,
  ]
    .filter(Boolean)
    .join(', ');
  return `error: ${failure.message}${where ? ` (${where})` : ''}\n`;
}

/** The --json form of a failure. */
export function errorJson(err: unknown): string {
  const { failureClass, code, message, correlationId } = failureOf(err);
  return json({ error: { class: failureClass, code, message, ...(correlationId ? { correlationId } : {}) } });
}
