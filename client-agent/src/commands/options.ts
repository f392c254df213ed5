import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MAX_PER_FILE } from '../outbox/outbox';
import { CRASH_POINTS } from '../sync/crash-point';

/** Every option can also come from the environment, so scripts and services need no arguments. */
export const dirOption = () =>
  new Option('--dir <dir>', 'client folder (local.db, outbox/, inbox/, agent.json)')
    .env('SYNC_AGENT_DIR')
    .makeOptionMandatory();
export const serverOption = (what: string) => new Option('--server <url>', what).env('SYNC_AGENT_SERVER');
export const clientOption = (what: string) => new Option('--client <name>', what).env('SYNC_AGENT_CLIENT');
export const secretOption = (what: string) => new Option('--secret <secret>', what).env('SYNC_AGENT_SECRET');
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
