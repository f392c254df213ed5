import { syncedSchemaVar } from '@outpost/server-db';
import {
  decimal,
  healthPortVar,
  int,
  loadConfig,
  optionalStr,
  s3Vars,
  sharedVars,
  type ConfigOf,
} from '@outpost/server-kit';

export const routerConfigSpec = {
  databaseUrl: sharedVars.databaseUrl,
  amqpUrl: sharedVars.amqpUrl,
  queuePrefix: sharedVars.queuePrefix,
  schema: syncedSchemaVar,
  ...s3Vars,
  healthPort: healthPortVar(8093),
  pollMs: int('ROUTER_POLL_MS', {
    description: 'milliseconds between polls of the transaction log (kicks also wake the router)',
    default: 500,
    min: 10,
    max: 60_000,
  }),
  batchSize: int('ROUTER_BATCH_SIZE', {
    description: 'log entries read per routing batch',
    default: 10_000,
    min: 1,
    max: 1_000_000,
  }),
  maxFileTxns: int('ROUTER_MAX_FILE_TXNS', {
    description: 'transactions per outbound changes file before it is split',
    default: 5_000,
    min: 1,
    max: 1_000_000,
  }),
  fetchBytes: int('ROUTER_FETCH_BYTES', {
    description:
      'estimated bytes of rows read per query while a changes file is written (at least one row is read at a time)',
    default: 4 * 1024 * 1024,
    min: 64 * 1024,
    max: 1024 * 1024 * 1024,
  }),
  extractPageSize: int('ROUTER_EXTRACT_PAGE_ROWS', {
    description: 'rows fetched per cursor page while streaming an extract',
    default: 5_000,
    min: 100,
    max: 100_000,
  }),
  retryMaxMs: int('ROUTER_RETRY_MAX_MS', {
    description: 'longest back-off before a client whose routing failed is retried',
    default: 60_000,
    min: 100,
    max: 3_600_000,
  }),
  captureSlot: optionalStr(
    'CAPTURE_SLOT',
    'replication slot the capture reads (default outpost_capture_<database name>; one per database)',
  ),
  captureBatchRows: int('CAPTURE_BATCH_ROWS', {
    description:
      'log rows the capture writes per transaction at most (a larger transaction is written in parts)',
    default: 5_000,
    min: 1,
    max: 100_000,
  }),
  captureBatchBytes: int('CAPTURE_BATCH_BYTES', {
    description:
      'bytes of captured rows (old values of deletes, mostly) the capture holds before it writes them (16384-268435456)',
    default: 8 * 1024 * 1024,
    min: 16 * 1024,
    max: 256 * 1024 * 1024,
  }),
  captureFlushMs: int('CAPTURE_FLUSH_MS', {
    description: 'milliseconds the capture gathers further transactions before it writes what it holds',
    default: 5,
    min: 0,
    max: 1_000,
  }),
  // Retention (docs/architecture.md "Retention"): days may be fractions of a day; 0 keeps for ever.
  retentionLogDays: decimal('RETENTION_LOG_DAYS', {
    description:
      'days a transaction log entry is kept once every active client passed it; a laptop that has not downloaded for this long is re-extracted (0: keep, no re-extract)',
    default: 30,
    min: 0,
    max: 36_500,
  }),
  retentionRecordsDays: decimal('RETENTION_RECORDS_DAYS', {
    description: 'days conflict, refusal and failed-sign-in records are kept (0: keep for ever)',
    default: 90,
    min: 0,
    max: 36_500,
  }),
  retentionFilesDays: decimal('RETENTION_FILES_DAYS', {
    description:
      'days archived inbox files (applied, refused, rejected) and acknowledged or obsolete outbound files are kept (0: keep for ever)',
    default: 14,
    min: 0,
    max: 36_500,
  }),
  retentionPartsDays: decimal('RETENTION_PARTS_DAYS', {
    description:
      'days the parts of a resumable upload that was never finished are kept (0: keep for ever); an agent that comes back later sends the file again from its start',
    default: 1,
    min: 0,
    max: 36_500,
  }),
  retentionIntervalSeconds: int('RETENTION_INTERVAL_SECONDS', {
    description: 'seconds between prune passes of the leading router (0: never prune)',
    default: 3_600,
    min: 0,
    max: 604_800,
  }),
  retentionBatchRows: int('RETENTION_BATCH_ROWS', {
    description: 'rows deleted per statement (and objects per batch) while pruning',
    default: 1_000,
    min: 1,
    max: 100_000,
  }),
} as const;

export type RouterConfig = ConfigOf<typeof routerConfigSpec>;

/** Throws a ConfigError listing every bad variable. */
export function loadRouterConfig(env: NodeJS.ProcessEnv = process.env): RouterConfig {
  return loadConfig(routerConfigSpec, env);
}
