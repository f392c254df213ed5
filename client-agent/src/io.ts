import type { SecretInput } from './config/read-secret';

/** Where a command writes; the CLI passes the process streams, tests pass buffers. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (progress bars) — false under --json or redirection. */
  tty: boolean;
  stderr?: NodeJS.WriteStream;
  stdout: NodeJS.WritableStream;
  /** Standard input, for --secret-stdin; a function so no command touches it unless asked. */
  stdin?: () => SecretInput;
}

export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    tty: process.stderr.isTTY === true && process.stdout.isTTY === true,
    stderr: process.stderr,
    stdout: process.stdout,
    stdin: () => process.stdin,
  };
}
