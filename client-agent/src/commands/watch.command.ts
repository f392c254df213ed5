import { Command, Option } from 'commander';
import { loadAgentConfig, loadSyncConfig } from '../config/agent-config';
import { Io } from '../io';
import { LogRepository } from '../local-store/log.repository';
import { withLocalStore } from '../local-store/open-store';
import { createProgress } from '../progress/sync-progress';
import { runSync } from '../sync/sync-session';
import { WatchLoop } from '../watch/watch-loop';
import { createWatchReporter } from '../watch/watch-report';
import {
  caOption,
  clientOption,
  dirOption,
  extractTimeoutOption,
  connectionOverrides,
  insecureHttpOption,
  jsonOption,
  keepDaysOption,
  maxPerFileOption,
  uploadPartBytesOption,
  positiveInt,
  secretOption,
  secretStdinOption,
  serverOption,
} from './options';

interface WatchCommandOptions {
  dir: string;
  server?: string;
  client?: string;
  secret?: string;
  ca?: string;
  json?: boolean;
  interval: number;
  quietPeriod: number;
  maxBackoff?: number;
  maxPerFile: number;
  uploadPartBytes: number;
  keepDays: number;
  extractTimeout: number;
}

/** Resolves after `ms`, or as soon as `signal` aborts; never keeps the process alive by itself. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export function registerWatchCommand(program: Command, io: Io): void {
  program
    .command('watch')
    .description(
      'sync in the background: on a schedule and soon after local changes; backs off while the server is unreachable; Ctrl-C stops after the sync in progress',
    )
    .addOption(dirOption())
    .addOption(serverOption('override the server URL of agent.json'))
    .addOption(clientOption('override the client name of agent.json'))
    .addOption(secretOption('override the secret of credentials.json'))
    .addOption(secretStdinOption())
    .addOption(caOption())
    .addOption(insecureHttpOption())
    .addOption(
      new Option('--interval <seconds>', 'sync at least this often')
        .env('SYNC_AGENT_INTERVAL')
        .default(300)
        .argParser(positiveInt('--interval')),
    )
    .addOption(
      new Option('--quiet-period <seconds>', 'sync local changes once none has come for this long')
        .env('SYNC_AGENT_QUIET_PERIOD')
        .default(5)
        .argParser(positiveInt('--quiet-period')),
    )
    .addOption(
      new Option(
        '--max-backoff <seconds>',
        'longest wait between tries while the server is unreachable (default: the interval)',
      )
        .env('SYNC_AGENT_MAX_BACKOFF')
        .argParser(positiveInt('--max-backoff')),
    )
    .addOption(maxPerFileOption())
    .addOption(uploadPartBytesOption())
    .addOption(keepDaysOption())
    .addOption(extractTimeoutOption())
    .addOption(jsonOption())
    .action(async (opts: WatchCommandOptions, cmd: Command) => {
      const overrides = await connectionOverrides(opts, cmd, io);
      const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
      // Checked once up front: a folder that cannot sync at all is an error now, not a retry loop.
      loadSyncConfig(opts.dir, defined);
      const report = createWatchReporter({ json: opts.json === true, tty: io.tty, out: io.out, err: io.err });
      const loop = new WatchLoop(
        {
          sync: () =>
            runSync(loadSyncConfig(opts.dir, defined), {
              upload: true,
              download: true,
              maxPerFile: opts.maxPerFile,
              uploadPartBytes: opts.uploadPartBytes,
              keepSentDays: opts.keepDays,
              extractTimeoutMs: opts.extractTimeout * 1000,
              // The status line is the progress here; notes would break it.
              progress: createProgress({ tty: false }),
            }),
          pendingChanges: () =>
            withLocalStore(loadAgentConfig(opts.dir), { exclusive: false }, (store) =>
              new LogRepository(store).pendingCount(),
            ),
          now: () => Date.now(),
          sleep,
          random: Math.random,
          report,
        },
        {
          intervalMs: opts.interval * 1000,
          quietPeriodMs: opts.quietPeriod * 1000,
          pollMs: 500,
          minBackoffMs: Math.min(2_000, opts.interval * 1000),
          maxBackoffMs: (opts.maxBackoff ?? opts.interval) * 1000,
        },
      );
      const stop = () => loop.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await loop.run();
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
