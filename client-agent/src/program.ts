import { Command, CommanderError } from 'commander';
import { registerDxCommand } from './commands/dx-inspect.command';
import { registerExecCommand } from './commands/exec.command';
import { registerExtractCommand } from './commands/extract.command';
import { registerInitCommand } from './commands/init.command';
import { registerQueryCommand } from './commands/query.command';
import { registerStatusCommand } from './commands/status.command';
import { registerSyncCommand } from './commands/sync.command';
import { registerWatchCommand } from './commands/watch.command';
import { secureAgentFolder } from './config/folder-modes';
import { AgentError } from './errors';
import { Io } from './io';
import { AGENT_VERSION } from './version';

export function buildProgram(io: Io): Command {
  const program = new Command('sync-agent')
    .description('Outpost laptop agent: local SQLite store, outbox and inbox, sync with the server')
    .version(AGENT_VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerInitCommand(program, io);
  registerExecCommand(program, io);
  registerQueryCommand(program, io);
  registerExtractCommand(program, io);
  registerSyncCommand(program, io);
  registerWatchCommand(program, io);
  registerStatusCommand(program, io);
  registerDxCommand(program, io);
  program.hook('preAction', (_program, command) => reportLooseModes(command, io));
  for (const cmd of program.commands) cmd.exitOverride();
  for (const cmd of program.commands.flatMap((c) => c.commands)) cmd.exitOverride();
  return program;
}

/**
 * Before any command on a client folder: tightens modes found too open and says so, since the
 * secret may have been read while they were (the store tightens new files itself, silently).
 */
function reportLooseModes(command: Command, io: Io): void {
  const dir = command.opts<{ dir?: string }>().dir;
  if (!dir) return;
  const changes = secureAgentFolder(dir);
  if (changes.length === 0) return;
  io.err(
    `note: the client folder was open to other users of this machine; tightened:\n  - ${changes.join('\n  - ')}\n` +
      `  if others could have read credentials.json, ask the administrator for a new secret ("sync-admin clients rotate-secret")\n`,
  );
}

/** Runs the CLI and returns the exit code; errors become one `error: ...` line (and JSON with --json). */
export async function runCli(argv: string[], io: Io): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof AgentError) {
      io.err(`error: ${err.message}\n`);
      if (argv.includes('--json'))
        io.out(`${JSON.stringify({ error: { code: err.code, message: err.message, ...err.details } })}\n`);
      return err.exitCode;
    }
    io.err(`error: ${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
}
