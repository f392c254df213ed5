import { Command, InvalidArgumentError } from 'commander';
import type { ClientWithSecret } from '@outpost/contracts';
import { AdminApi, AdminApiError, type FetchFn } from './admin-api';
import { captureText, clientsTable, conflictsTable, inboxTable, refusalsTable } from './format';

export interface CliIo {
  out(text: string): void;
  env: NodeJS.ProcessEnv;
  fetch?: FetchFn;
}

interface GlobalOpts {
  server?: string;
  token?: string;
}

function apiFrom(cmd: Command, io: CliIo): AdminApi {
  const opts = cmd.optsWithGlobals<GlobalOpts>();
  const server = opts.server ?? io.env.SYNC_ADMIN_URL;
  const token = opts.token ?? io.env.SYNC_ADMIN_TOKEN;
  if (!server)
    throw new AdminApiError(
      'no server: pass --server URL or set SYNC_ADMIN_URL (the gateway admin port, e.g. http://host:8081)',
      'USAGE',
    );
  if (!token) throw new AdminApiError('no admin token: pass --token TOKEN or set SYNC_ADMIN_TOKEN', 'USAGE');
  return new AdminApi(server, token, io.fetch);
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

/** The `sync-admin` command tree. Actions throw; only the entry point decides the exit code. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('sync-admin')
    .description(
      'Administer Outpost sync: clients, server inboxes, conflicts (through the gateway admin API)',
    )
    .option('--server <url>', 'admin API URL (env SYNC_ADMIN_URL)')
    .option('--token <token>', 'admin token (env SYNC_ADMIN_TOKEN)')
    .showHelpAfterError()
    .exitOverride();

  const clients = program.command('clients').description('register and manage remote clients (laptops)');
  clients
    .command('add <name>')
    .description('register a client; prints its secret once')
    .requiredOption('--user <login>', 'login of the user whose data the client receives')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { user: string; json?: boolean }, cmd: Command) => {
      const res = await apiFrom(cmd, io).addClient(name, opts.user);
      io.out(opts.json ? json(res) : secretText('added', res));
    });
  clients
    .command('list')
    .description('list clients with their last sync')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const list = await apiFrom(cmd, io).listClients();
      io.out(opts.json ? json(list) : clientsTable(list));
    });
  clients
    .command('deactivate <name>')
    .description('stop a client from synchronizing')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await apiFrom(cmd, io).deactivate(name);
      io.out(`Client ${name} deactivated.\n`);
    });
  clients
    .command('rotate-secret <name>')
    .description('issue a new secret; the old one stops working')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const res = await apiFrom(cmd, io).rotateSecret(name);
      io.out(opts.json ? json(res) : secretText('has a new secret', res));
    });
  clients
    .command('reextract <name>')
    .description('rebuild the client database from the server on its next sync')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await apiFrom(cmd, io).reextract(name);
      io.out(`Re-extract requested for ${name}; it receives a fresh database on its next sync.\n`);
    });

  const inbox = program
    .command('inbox')
    .description("show a client's server inbox (received, applied, waiting, quarantined)")
    .argument('<name>', 'client name')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const files = await apiFrom(cmd, io).inbox(name);
      io.out(opts.json ? json(files) : inboxTable(name, files));
    });
  inbox
    .command('retry <name> <fileSeq>')
    .description('put a quarantined file back in line to be applied')
    .action(async (name: string, fileSeq: string, _opts: unknown, cmd: Command) => {
      const view = await apiFrom(cmd, io).retry(name, fileSeqArg(fileSeq));
      io.out(`File ${view.fileSeq} of ${name} is ${view.status} again and will be applied.\n`);
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
        `File ${view.fileSeq} of ${name} is rejected: its changes are refused, the later files apply, and ` +
          `the laptop gets the server's rows back on its next sync.\n`,
      );
    });

  const conflicts = program.command('conflicts').description('conflicts the server resolved');
  conflicts
    .command('list')
    .description('list conflicts, newest first')
    .option('--client <name>', 'only conflicts of this client')
    .option('--json', 'print JSON')
    .action(async (opts: { client?: string; json?: boolean }, cmd: Command) => {
      const list = await apiFrom(cmd, io).conflicts(opts.client);
      io.out(opts.json ? json(list) : conflictsTable(list));
    });

  program
    .command('capture')
    .description("the server's change capture: its replication slot and how far it is behind")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const status = await apiFrom(cmd, io).capture();
      io.out(opts.json ? json(status) : captureText(status));
    });

  const refusals = program
    .command('refusals')
    .description("laptops' changes the server refused (not visible to the user, not allowed by the schema)");
  refusals
    .command('list')
    .description('list refused changes, newest first')
    .option('--client <name>', 'only refusals of this client')
    .option('--json', 'print JSON')
    .action(async (opts: { client?: string; json?: boolean }, cmd: Command) => {
      const list = await apiFrom(cmd, io).refusals(opts.client);
      io.out(opts.json ? json(list) : refusalsTable(list));
    });

  return program;
}

/** One line for any failure: `error: <message> (code, correlation id)`. */
export function errorLine(err: unknown): string {
  if (err instanceof AdminApiError) {
    const where = [
      err.code === 'USAGE' || err.code === 'UNREACHABLE' ? undefined : err.code,
      err.correlationId && `correlation id ${err.correlationId}`,
    ]
      .filter(Boolean)
      .join(', ');
    return `error: ${err.message}${where ? ` (${where})` : ''}\n`;
  }
  return `error: ${err instanceof Error ? err.message : String(err)}\n`;
}
