import type { WatchEvent } from './watch-loop';

const seconds = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s}s` : `${Math.round(s / 60)}m`;
};

const clock = (at: Date) => at.toTimeString().slice(0, 8);

/** One human line per event; on a terminal it replaces the previous one. */
export function describeWatchEvent(event: WatchEvent, at: Date): string {
  switch (event.event) {
    case 'started':
      return `watching: sync every ${seconds(event.intervalMs)}, and ${seconds(event.quietPeriodMs)} after local changes settle`;
    case 'syncing':
      return `${clock(at)} syncing (${event.reason === 'local-changes' ? 'local changes' : event.reason})...`;
    case 'synced': {
      const s = event.summary;
      return (
        `${clock(at)} synced: up ${s.uploaded.files} files (${s.uploaded.txns} changes), ` +
        `down ${s.downloaded.files} files (${s.downloaded.txns} changes)` +
        `${s.conflicts ? `, ${s.conflicts} conflicts` : ''}; next in ${seconds(event.nextInMs)}`
      );
    }
    case 'failed':
      return event.unreachable
        ? `${clock(at)} server unreachable (attempt ${event.attempt}); retry in ${seconds(event.retryInMs)}: ${event.message}`
        : `${clock(at)} sync failed (${event.code}); next try in ${seconds(event.retryInMs)}: ${event.message}`;
    case 'stopping':
      return `${clock(at)} stopping (after the sync in progress, if any)...`;
    case 'stopped':
      return `${clock(at)} stopped`;
  }
}

export interface WatchReporter {
  (event: WatchEvent): void;
}

/**
 * --json: one JSON object per line, with its time. A terminal: one status line rewritten in place
 * (failures and the final line stay). Otherwise (a log file, a service manager): one line per event.
 */
export function createWatchReporter(opts: {
  json: boolean;
  tty: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
  now?: () => Date;
}): WatchReporter {
  const now = opts.now ?? (() => new Date());
  if (opts.json) {
    return (event) => opts.out(`${JSON.stringify({ at: now().toISOString(), ...event })}\n`);
  }
  if (!opts.tty) return (event) => opts.err(`${describeWatchEvent(event, now())}\n`);
  return (event) => {
    const line = describeWatchEvent(event, now());
    const keep = event.event === 'failed' || event.event === 'stopped' || event.event === 'started';
    // \r and erase-line: the status stays on one line; lines worth keeping end with a newline.
    opts.err(`\r\x1b[2K${line}${keep ? '\n' : ''}`);
  };
}
