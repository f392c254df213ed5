import { Command, InvalidArgumentError, Option } from 'commander';

/** Sizes of every scenario; the defaults keep `npm run bench` within minutes on two cores. */
export interface BenchSizes {
  uploadTxns: number;
  uploadAgents: number;
  downloadOps: number;
  captureRows: number;
  /** Application writers of the app-writers scenario, and how long each measured run lasts. */
  appWriters: number;
  appWritersSeconds: number;
  extractRows: number;
  roundTripRuns: number;
  agents: number;
  changesPerAgent: number;
  /** Size on disk of the DX file of the memory scenario, in MiB. */
  memoryMb: number;
}

export interface BenchOptions {
  only: string[] | null;
  json: boolean;
  /** Override every scenario's own repetition and warm-up counts. */
  repetitions: number | null;
  warmup: number | null;
  sizes: BenchSizes;
  /** Keep the services' log directories (their paths are printed) instead of deleting them. */
  keepLogs: boolean;
  /** Write a V8 CPU profile of every service process into this directory (one folder per scenario). */
  cpuProfDir: string | null;
}

/** The full sizes of the table, for `--full`. */
export const FULL_SIZES: BenchSizes = {
  uploadTxns: 100_000,
  uploadAgents: 10,
  downloadOps: 100_000,
  captureRows: 100_000,
  appWriters: 8,
  appWritersSeconds: 10,
  extractRows: 1_000_000,
  roundTripRuns: 200,
  agents: 1_000,
  changesPerAgent: 20,
  memoryMb: 1024,
};

export const DEFAULT_SIZES: BenchSizes = {
  uploadTxns: 100_000,
  uploadAgents: 10,
  downloadOps: 100_000,
  captureRows: 100_000,
  appWriters: 8,
  appWritersSeconds: 5,
  extractRows: 100_000,
  roundTripRuns: 200,
  agents: 200,
  changesPerAgent: 20,
  memoryMb: 200,
};

interface SizeFlag {
  key: keyof BenchSizes;
  flag: string;
  env: string;
  what: string;
}

const SIZE_FLAGS: SizeFlag[] = [
  {
    key: 'uploadTxns',
    flag: '--upload-txns',
    env: 'BENCH_UPLOAD_TXNS',
    what: 'upload ingest: pending transactions in total',
  },
  {
    key: 'uploadAgents',
    flag: '--upload-agents',
    env: 'BENCH_UPLOAD_AGENTS',
    what: 'upload ingest: agents sharing them',
  },
  {
    key: 'downloadOps',
    flag: '--download-ops',
    env: 'BENCH_DOWNLOAD_OPS',
    what: 'download apply: server changes',
  },
  {
    key: 'captureRows',
    flag: '--capture-rows',
    env: 'BENCH_CAPTURE_ROWS',
    what: 'capture: inserts, and as many updates',
  },
  {
    key: 'appWriters',
    flag: '--app-writers',
    env: 'BENCH_APP_WRITERS',
    what: 'app writers: concurrent application transactions',
  },
  {
    key: 'appWritersSeconds',
    flag: '--app-writers-seconds',
    env: 'BENCH_APP_WRITERS_SECONDS',
    what: 'app writers: seconds per measured run',
  },
  {
    key: 'extractRows',
    flag: '--extract-rows',
    env: 'BENCH_EXTRACT_ROWS',
    what: 'initial extract: rows visible to the client',
  },
  {
    key: 'roundTripRuns',
    flag: '--round-trip-runs',
    env: 'BENCH_ROUND_TRIP_RUNS',
    what: 'round trip: measured runs',
  },
  { key: 'agents', flag: '--agents', env: 'BENCH_AGENTS', what: 'concurrency: agents syncing at once' },
  {
    key: 'changesPerAgent',
    flag: '--changes-per-agent',
    env: 'BENCH_CHANGES_PER_AGENT',
    what: 'concurrency: changes per agent',
  },
  {
    key: 'memoryMb',
    flag: '--memory-size',
    env: 'BENCH_MEMORY_MB',
    what: 'memory: DX file size on disk, MiB',
  },
];

function positiveInt(name: string, allowZero = false) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
      throw new InvalidArgumentError(
        `${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, not "${value}"`,
      );
    }
    return n;
  };
}

/** Parses flags (each also read from its environment variable); `scenarioNames` lists what `--only` accepts. */
export function parseOptions(argv: readonly string[], scenarioNames: readonly string[]): BenchOptions {
  const program = new Command()
    .name('bench')
    .description('Benchmarks of the sync paths against baselines measured in the same run')
    .addOption(
      new Option('--only <scenarios>', `comma-separated scenarios to run: ${scenarioNames.join(', ')}`).env(
        'BENCH_ONLY',
      ),
    )
    .option('--json', 'print one JSON document (machine and results) on stdout instead of the table')
    .option('--full', "use the full sizes of the issue's table (takes much longer)")
    .addOption(
      new Option('--reps <n>', 'measured repetitions per scenario (default: per scenario)')
        .env('BENCH_REPS')
        .argParser(positiveInt('--reps')),
    )
    .addOption(
      new Option('--warmup <n>', 'warm-up repetitions per scenario (default: per scenario)')
        .env('BENCH_WARMUP')
        .argParser(positiveInt('--warmup', true)),
    )
    .option('--keep-logs', 'keep the service logs of each stack')
    .addOption(
      new Option(
        '--cpu-prof <dir>',
        'write CPU profiles of the service processes to DIR/<scenario>/ (node --cpu-prof)',
      ).env('BENCH_CPU_PROF'),
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: () => undefined }); // errors are thrown and printed by the caller
  for (const f of SIZE_FLAGS) {
    program.addOption(
      new Option(`${f.flag} <n>`, `${f.what} (default ${DEFAULT_SIZES[f.key]}, full ${FULL_SIZES[f.key]})`)
        .env(f.env)
        .argParser(positiveInt(f.flag)),
    );
  }
  program.parse([...argv], { from: 'user' });
  const raw = program.opts<Record<string, unknown>>();
  const base = raw.full ? FULL_SIZES : DEFAULT_SIZES;
  const sizes = { ...base };
  for (const f of SIZE_FLAGS) {
    const value = raw[flagKey(f.flag)];
    if (typeof value === 'number') sizes[f.key] = value;
  }
  let only: string[] | null = null;
  if (typeof raw.only === 'string' && raw.only.trim() !== '') {
    only = raw.only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = only.filter((name) => !scenarioNames.includes(name));
    if (unknown.length > 0) {
      throw new InvalidArgumentError(
        `unknown scenario${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} in --only; known: ${scenarioNames.join(', ')}`,
      );
    }
  }
  return {
    only,
    json: raw.json === true,
    repetitions: typeof raw.reps === 'number' ? raw.reps : null,
    warmup: typeof raw.warmup === 'number' ? raw.warmup : null,
    sizes,
    keepLogs: raw.keepLogs === true,
    cpuProfDir: typeof raw.cpuProf === 'string' && raw.cpuProf !== '' ? raw.cpuProf : null,
  };
}

/** commander's camelCase key of a `--kebab-case` flag. */
function flagKey(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
