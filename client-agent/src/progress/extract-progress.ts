import { Presets, SingleBar } from 'cli-progress';

/** Progress of an extract: changes put into outbox files, out of those pending at the start. */
export interface ExtractProgress {
  begin(changes: number): void;
  fileWritten(changes: number): void;
  stop(): void;
}

class TerminalExtractProgress implements ExtractProgress {
  private readonly bar: SingleBar;
  private done = 0;
  private files = 0;

  constructor(stream: NodeJS.WriteStream) {
    this.bar = new SingleBar(
      {
        stream,
        format: 'extract  [{bar}] {percentage}% | {value}/{total} changes | {files} files',
        hideCursor: true,
        clearOnComplete: false,
      },
      Presets.shades_classic,
    );
  }

  begin(changes: number): void {
    this.bar.start(Math.max(changes, 1), 0, { files: 0 });
  }

  fileWritten(changes: number): void {
    this.done += changes;
    this.files++;
    this.bar.update(this.done, { files: this.files });
  }

  stop(): void {
    this.bar.stop();
  }
}

const quiet: ExtractProgress = { begin() {}, fileWritten() {}, stop() {} };

/** A bar on a terminal, like sync's; nothing when stderr is redirected or under --json. */
export function createExtractProgress(opts: { tty: boolean; stream?: NodeJS.WriteStream }): ExtractProgress {
  return opts.tty && opts.stream ? new TerminalExtractProgress(opts.stream) : quiet;
}
