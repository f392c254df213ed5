#!/usr/bin/env node
import { type Command, CommanderError } from 'commander';
import { buildProgram, errorJson, errorLine, EXIT_CODES, failureOf } from './program';

async function main(): Promise<number> {
  // Decided before parsing, so that a usage error is reported as JSON too.
  const jsonMode = process.argv.includes('--json');
  const program = buildProgram({ out: (text) => process.stdout.write(text), env: process.env });
  if (jsonMode) silenceUsageOutput(program);
  try {
    await program.parseAsync(process.argv);
    return EXIT_CODES.ok;
  } catch (err) {
    // --help and --version end the parse through the same exception, successfully.
    if (err instanceof CommanderError && err.exitCode === 0) return EXIT_CODES.ok;
    const failure = failureOf(err);
    if (jsonMode) process.stdout.write(errorJson(err));
    // Commander has already printed its own usage errors, with help.
    else if (!(err instanceof CommanderError)) process.stderr.write(errorLine(err));
    return EXIT_CODES[failure.failureClass];
  }
}

/** Every command prints its own usage errors; in JSON mode the entry point reports them instead. */
function silenceUsageOutput(command: Command): void {
  command.configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  for (const sub of command.commands) silenceUsageOutput(sub);
}

void main().then((code) => {
  process.exitCode = code;
});
