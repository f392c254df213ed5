import { AgentError, AgentErrorCode } from '../errors';

/** Standard input as the CLI sees it: a terminal (raw mode hides what is typed) or a pipe. */
export interface SecretInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
}

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const BACKSPACE = new Set(['\u007f', '\b']);
/** A secret is short; a file piped in by mistake must not be read whole. */
const MAX_LENGTH = 4096;

function noSecret(why: string): AgentError {
  return new AgentError(
    AgentErrorCode.ConfigInvalid,
    `--secret-stdin: ${why}; pipe the secret in (e.g. "sync-agent init ... --secret-stdin < secret.txt") or type it when asked`,
  );
}

/**
 * Reads the secret from the first line of standard input, so it never appears in the process list,
 * the shell history or the environment. On a terminal the typed characters are not echoed.
 */
export function readSecretLine(input: SecretInput, prompt: (text: string) => void): Promise<string> {
  const terminal = input.isTTY === true && typeof input.setRawMode === 'function';
  return new Promise<string>((resolve, reject) => {
    let text = '';
    const finish = (err: AgentError | null) => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onError);
      if (terminal) {
        input.setRawMode?.(false);
        prompt('\n');
      }
      // Let the process end once the command is done: a paused stdin holds no reference.
      input.pause();
      if (err) return reject(err);
      if (text === '') return reject(noSecret('standard input gave an empty line'));
      resolve(text);
    };
    const onData = (chunk: string | Buffer) => {
      for (const ch of chunk.toString()) {
        if (ch === '\n' || ch === '\r' || (terminal && ch === CTRL_D)) return finish(null);
        if (terminal && ch === CTRL_C) return finish(noSecret('cancelled'));
        if (terminal && BACKSPACE.has(ch)) text = text.slice(0, -1);
        else text += ch;
        if (text.length > MAX_LENGTH)
          return finish(noSecret(`the first line is longer than ${MAX_LENGTH} characters`));
      }
    };
    const onEnd = () => finish(null);
    const onError = (err: Error) => finish(noSecret(`cannot read standard input: ${err.message}`));
    if (terminal) {
      prompt('secret (not shown): ');
      input.setRawMode?.(true);
    }
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
    input.resume();
  });
}
