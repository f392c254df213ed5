import { Command, CommanderError } from 'commander';
import { registerDxCommand } from './commands/dx-inspect.command';
import { registerExecCommand } from './commands/exec.command';
import { registerExtractCommand } from './commands/extract.command';
import { registerInitCommand } from './commands/init.command';
import { registerQueryCommand } from './commands/query.command';
import { registerStatusCommand } from './commands/status.command';
import { registerSyncCommand } from './commands/sync.command';
import { registerWatchCommand } from './commands/watch.command';
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
  for (const cmd of program.commands) cmd.exitOverride();
  for (const cmd of program.commands.flatMap((c) => c.commands)) cmd.exitOverride();
  return program;
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
