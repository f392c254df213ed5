import { Command, InvalidArgumentError, Option } from 'commander';
import { readSecretLine } from '../config/read-secret';
import { AgentError, AgentErrorCode } from '../errors';
import { Io } from '../io';
import { DEFAULT_KEEP_DAYS, DEFAULT_MAX_PER_FILE } from '../outbox/outbox';
import { CRASH_POINTS } from '../sync/crash-point';
import { DEFAULT_UPLOAD_PART_BYTES } from '../sync/upload-parts';

/** Every option can also come from the environment, so scripts and services need no arguments. */
export const dirOption = () =>
  new Option('--dir <dir>', 'client folder (local.db, outbox/, inbox/, agent.json)')
    .env('SYNC_AGENT_DIR')
    .makeOptionMandatory();
export const serverOption = (what: string) => new Option('--server <url>', what).env('SYNC_AGENT_SERVER');
export const clientOption = (what: string) => new Option('--client <name>', what).env('SYNC_AGENT_CLIENT');
const SECRET_ENV = 'SYNC_AGENT_SECRET';
export const secretOption = (what: string) => new Option('--secret <secret>', what).env(SECRET_ENV);
export const secretStdinOption = () =>
  new Option(
    '--secret-stdin',
    'read the secret from the first line of standard input (not shown when typed), instead of --secret',
  );
const INSECURE_HTTP_ENV = 'SYNC_AGENT_INSECURE_HTTP';
export const insecureHttpOption = () =>
  new Option(
    '--insecure-http',
    'allow plain http:// to a server that is not on this machine: the secret and data travel unencrypted',
  ).env(INSECURE_HTTP_ENV);

/**
 * --insecure-http, or SYNC_AGENT_INSECURE_HTTP set to 1 or true. commander turns a flag on for any
 * value of its variable; here "0" or "false" meaning yes would lower the guard by surprise.
 */
export function insecureHttpFrom(cmd: Command): boolean {
  if (cmd.getOptionValueSource('insecureHttp') !== 'env')
    return cmd.opts<{ insecureHttp?: boolean }>().insecureHttp === true;
  const value = (process.env[INSECURE_HTTP_ENV] ?? '').toLowerCase();
  if (value === '1' || value === 'true') return true;
  throw new AgentError(
    AgentErrorCode.ConfigInvalid,
    `${INSECURE_HTTP_ENV}="${process.env[INSECURE_HTTP_ENV]}": set it to 1 to allow plain http:// to another machine, or unset it`,
  );
}
export const caOption = () =>
  new Option('--ca <file>', 'PEM file of the CA that signed the server certificate').env(
    'SYNC_AGENT_CA_FILE',
  );
export const jsonOption = () => new Option('--json', 'print JSON for scripts');
export const extractTimeoutOption = () =>
  new Option('--extract-timeout <seconds>', 'how long to wait for the server to prepare an extract')
    .env('SYNC_AGENT_EXTRACT_TIMEOUT')
    .default(600)
    .argParser(positiveInt('--extract-timeout'));
export const maxPerFileOption = () =>
  new Option('--max-per-file <n>', 'most transactions per outbox file')
    .env('SYNC_AGENT_MAX_PER_FILE')
    .default(DEFAULT_MAX_PER_FILE)
    .argParser(positiveInt('--max-per-file'));

export const uploadPartBytesOption = () =>
  new Option(
    '--upload-part-bytes <n>',
    'files larger than this are uploaded in parts of this size; a cut connection resumes after the last part the server holds',
  )
    .env('SYNC_AGENT_UPLOAD_PART_BYTES')
    .default(DEFAULT_UPLOAD_PART_BYTES)
    .argParser(positiveInt('--upload-part-bytes'));

export const keepDaysOption = () =>
  new Option(
    '--keep-days <days>',
    'days sent outbox files are kept after the server acknowledged them (0: remove at once)',
  )
    .env('SYNC_AGENT_KEEP_DAYS')
    .default(DEFAULT_KEEP_DAYS)
    .argParser((value: string): number => {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || n < 0)
        throw new InvalidArgumentError(`--keep-days must be a number of days, 0 or more, not "${value}"`);
      return n;
    });

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${name} must be a positive integer, not "${value}"`);
    return n;
  };
}

/** Hidden: makes a sync die at a given point, for the crash-recovery tests. */
export const testCrashOption = () =>
  new Option('--test-crash <point>', 'die abruptly at this point (tests only)')
    .env('SYNC_AGENT_TEST_CRASH')
    .choices(CRASH_POINTS)
    .hideHelp();

/**
 * The secret from exactly one of --secret, SYNC_AGENT_SECRET and --secret-stdin. Two at once are
 * refused rather than ranked: with a secret in the environment and another typed, it would not be
 * clear which one is used and stored in credentials.json.
 */
export async function secretFrom(cmd: Command, io: Io): Promise<string | undefined> {
  const opts = cmd.opts<{ secret?: string; secretStdin?: boolean }>();
  const given: string[] = [];
  if (cmd.getOptionValueSource('secret') === 'cli') given.push('--secret');
  // commander lets --secret hide the variable; it is read here only to notice both.
  if (process.env[SECRET_ENV] !== undefined) given.push(SECRET_ENV);
  if (opts.secretStdin) given.push('--secret-stdin');
  if (given.length > 1) {
    throw new AgentError(
      AgentErrorCode.SecretAmbiguous,
      `the secret is given ${given.length} ways (${given.join(', ')}): give it one way only` +
        (given.includes(SECRET_ENV) ? ` (unset ${SECRET_ENV}, or drop the option)` : ''),
      { sources: given },
    );
  }
  if (!opts.secretStdin) return opts.secret;
  if (!io.stdin) throw new AgentError(AgentErrorCode.ConfigInvalid, '--secret-stdin: no standard input');
  return readSecretLine(io.stdin(), (text) => io.err(text));
}

/** What --server, --client, the secret, --ca and --insecure-http say of the connection, for sync and watch. */
export async function connectionOverrides(
  opts: { server?: string; client?: string; ca?: string },
  cmd: Command,
  io: Io,
) {
  return {
    server: opts.server,
    client: opts.client,
    secret: await secretFrom(cmd, io),
    caFile: opts.ca,
    insecureHttp: insecureHttpFrom(cmd),
  };
}
