import { MultiBar, Presets, SingleBar } from 'cli-progress';

export type Direction = 'upload' | 'download';

/** Progress of a sync, per direction, in bytes and files. */
export interface SyncProgress {
  begin(direction: Direction, files: number, bytes: number): void;
  bytes(direction: Direction, n: number): void;
  fileDone(direction: Direction): void;
  /** A line of status (what the sync is waiting for); shown above the bars. */
  note(message: string): void;
  stop(): void;
}

class QuietProgress implements SyncProgress {
  constructor(private readonly notes?: (line: string) => void) {}
  begin(): void {}
  bytes(): void {}
  fileDone(): void {}
  note(message: string): void {
    this.notes?.(message);
  }
  stop(): void {}
}

class TerminalProgress implements SyncProgress {
  private readonly multi: MultiBar;
  private readonly bars = new Map<
    Direction,
    { bar: SingleBar; files: number; filesDone: number; bytes: number }
  >();

  constructor(stream: NodeJS.WriteStream) {
    this.multi = new MultiBar(
      {
        stream,
        format: '{direction} [{bar}] {percentage}% | {value}/{total} bytes | {filesDone}/{files} files',
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
      },
      Presets.shades_classic,
    );
  }

  begin(direction: Direction, files: number, bytes: number): void {
    const bar = this.multi.create(Math.max(bytes, 1), 0, {
      direction: direction.padEnd(8),
      files,
      filesDone: 0,
    });
    this.bars.set(direction, { bar, files, filesDone: 0, bytes: 0 });
  }

  bytes(direction: Direction, n: number): void {
    const b = this.bars.get(direction);
    if (!b) return;
    b.bytes += n;
    b.bar.update(b.bytes);
  }

  fileDone(direction: Direction): void {
    const b = this.bars.get(direction);
    if (!b) return;
    b.filesDone++;
    b.bar.update(b.bytes, { filesDone: b.filesDone });
  }

  note(message: string): void {
    this.multi.log(`${message}\n`);
  }

  stop(): void {
    this.multi.stop();
  }
}

/**
 * Bars only on a terminal: when stderr is redirected (scripts, CI, --json) the sync is quiet apart from
 * the notes, which go to `notes` as plain lines.
 */
export function createProgress(opts: {
  tty: boolean;
  stream?: NodeJS.WriteStream;
  notes?: (line: string) => void;
}): SyncProgress {
  return opts.tty && opts.stream ? new TerminalProgress(opts.stream) : new QuietProgress(opts.notes);
}
