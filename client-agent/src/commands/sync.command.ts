import { Command } from 'commander';
import { loadSyncConfig } from '../config/agent-config';
import { Io } from '../io';
import { createProgress } from '../progress/sync-progress';
import { runSync, SyncSummary } from '../sync/sync-session';
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
  secretOption,
  secretStdinOption,
  serverOption,
  testCrashOption,
} from './options';
import type { CrashPoint } from '../sync/crash-point';

interface SyncCommandOptions {
  dir: string;
  server?: string;
  client?: string;
  secret?: string;
  ca?: string;
  json?: boolean;
  download: boolean;
  maxPerFile: number;
  uploadPartBytes: number;
  keepDays: number;
  extractTimeout: number;
  testCrash?: CrashPoint;
}

export function describeSync(s: SyncSummary): string {
  const part = (t: { files: number; txns: number; bytes: number }) =>
    `${t.files} files (${t.txns} changes, ${t.bytes} bytes)`;
  const upgrade = s.schemaUpgrade
    ? `local schema upgraded from v${s.schemaUpgrade.from} to v${s.schemaUpgrade.to}; `
    : '';
  return (
    `${upgrade}uploaded ${part(s.uploaded)}, downloaded ${part(s.downloaded)}, ${s.conflicts} conflict${s.conflicts === 1 ? '' : 's'}` +
    ` in ${(s.durationMs / 1000).toFixed(1)} s` +
    (s.refused > 0
      ? `; the server refused ${s.refused} of your change${s.refused === 1 ? '' : 's'} (your copy now shows the server's rows; see "sync-agent status")`
      : '')
  );
}

export function registerSyncCommand(program: Command, io: Io): void {
  program
    .command('sync')
    .description('extract local changes, upload the outbox, download and apply server changes')
    .addOption(dirOption())
    .addOption(serverOption('override the server URL of agent.json'))
    .addOption(clientOption('override the client name of agent.json'))
    .addOption(secretOption('override the secret of credentials.json'))
    .addOption(secretStdinOption())
    .addOption(caOption())
    .addOption(insecureHttpOption())
    .option('--no-download', 'upload only')
    .addOption(maxPerFileOption())
    .addOption(uploadPartBytesOption())
    .addOption(keepDaysOption())
    .addOption(extractTimeoutOption())
    .addOption(jsonOption())
    .addOption(testCrashOption())
    .action(async (opts: SyncCommandOptions, cmd: Command) => {
      const overrides = await connectionOverrides(opts, cmd, io);
      const cfg = loadSyncConfig(
        opts.dir,
        Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
      );
      const progress = createProgress({
        tty: io.tty && !opts.json,
        stream: io.stderr,
        notes: (l) => io.err(`${l}\n`),
      });
      const summary = await runSync(cfg, {
        upload: true,
        download: opts.download,
        maxPerFile: opts.maxPerFile,
        uploadPartBytes: opts.uploadPartBytes,
        keepSentDays: opts.keepDays,
        extractTimeoutMs: opts.extractTimeout * 1000,
        progress,
        crashAt: opts.testCrash,
      });
      io.out(opts.json ? `${JSON.stringify(summary)}\n` : `sync done: ${describeSync(summary)}\n`);
    });
}
