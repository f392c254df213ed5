#!/usr/bin/env node
import { CommanderError } from 'commander';
import { buildProgram, errorLine } from './program';

async function main(): Promise<number> {
  const program = buildProgram({ out: (text) => process.stdout.write(text), env: process.env });
  try {
    await program.parseAsync(process.argv);
    return 0;
  } catch (err) {
    // Commander has already printed its own usage errors and help.
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(errorLine(err));
    return 1;
  }
}

void main().then((code) => {
  process.exitCode = code;
});
