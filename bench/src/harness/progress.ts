/**
 * One status line on a terminal (stderr), rewritten in place; nothing at all when stderr is piped or
 * redirected, so `--json` output and logs stay clean.
 */
export class Progress {
  private last = '';
  private readonly started = Date.now();

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = stream.isTTY === true,
  ) {}

  update(message: string): void {
    if (!this.enabled) return;
    const seconds = ((Date.now() - this.started) / 1000).toFixed(0);
    const line = `[${seconds.padStart(4)} s] ${message}`.slice(0, (this.stream.columns || 100) - 1);
    this.stream.write(`\r${line.padEnd(this.last.length)}`);
    this.last = line;
  }

  /** A line that stays (a finished scenario); shown only on a terminal, like the rest. */
  log(message: string): void {
    if (!this.enabled) return;
    this.clear();
    this.stream.write(`${message}\n`);
  }

  clear(): void {
    if (!this.enabled || this.last === '') return;
    this.stream.write(`\r${' '.repeat(this.last.length)}\r`);
    this.last = '';
  }
}
