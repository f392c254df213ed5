import {
  healthPortVar,
  int,
  loadConfig,
  optionalStr,
  s3Vars,
  sharedVars,
  type ConfigOf,
  type VarSpec,
} from '@outpost/server-kit';
import { syncedSchemaVar } from '@outpost/server-db';

export const applierConfigSpec = {
  databaseUrl: sharedVars.databaseUrl,
  amqpUrl: sharedVars.amqpUrl,
  queuePrefix: sharedVars.queuePrefix,
  ...s3Vars,
  schema: syncedSchemaVar,
  healthPort: healthPortVar(8092),
  prefetch: int('APPLY_PREFETCH', {
    description: 'how many dx.inbox messages one applier works on at once',
    default: 4,
    min: 1,
    max: 64,
  }),
  chunkTxns: int('APPLY_CHUNK_TXNS', {
    description: 'transactions resolved and written per batch',
    default: 2000,
    min: 1,
    max: 50_000,
  }),
  chunkBytes: int('APPLY_CHUNK_BYTES', {
    description: 'uncompressed bytes of transactions resolved and written per batch, at most',
    default: 4 * 1024 * 1024,
    min: 64 * 1024,
  }),
  maxLineBytes: int('APPLY_MAX_LINE_BYTES', {
    description: 'longest transaction line of a file; a longer one quarantines the file',
    default: 16 * 1024 * 1024,
    min: 1024,
    max: 256 * 1024 * 1024,
  }),
  sweepIntervalMs: int('APPLY_SWEEP_INTERVAL_MS', {
    description: 'how often to look for received files no message woke the applier for (ms)',
    default: 30_000,
    min: 100,
  }),
  retryMaxMs: int('APPLY_RETRY_MAX_MS', {
    description: 'longest wait before a transient failure is retried (ms)',
    default: 30_000,
    min: 10,
  }),
  maxAttempts: int('APPLY_MAX_ATTEMPTS', {
    description:
      'how many times a file may fail the same way (other than a lost connection, deadlock or serialization failure) before it is quarantined',
    default: 5,
    min: 1,
    max: 1000,
  }),
  faultAfterChunks: {
    ...optionalStr(
      'APPLY_TEST_FAULT_AFTER_CHUNKS',
      'tests only: exit the process abruptly after writing this many chunks of a file',
    ),
    parse(raw: string) {
      if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`not a positive integer: "${raw}"`);
      return Number(raw);
    },
  } as VarSpec<number> & { optional: true },
};

export type ApplierConfig = ConfigOf<typeof applierConfigSpec>;

export const APPLIER_CONFIG = Symbol('APPLIER_CONFIG');

export function loadApplierConfig(env: NodeJS.ProcessEnv = process.env): ApplierConfig {
  return loadConfig(applierConfigSpec, env);
}
