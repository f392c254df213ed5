import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/**
 * One Prometheus registry per process, labelled with the service's name, with Node's process
 * metrics (CPU, memory, event loop lag, handles) and the counters the services share. Every name
 * starts with `outpost_`; the dashboard in deploy/grafana reads these names.
 */
export const metricsRegistry = new Registry();

let initialised: string | undefined;

/** Labels every metric with the service and starts the process metrics; once per process. */
export function initMetrics(service: string): Registry {
  if (initialised === undefined) {
    metricsRegistry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: metricsRegistry });
    initialised = service;
  }
  return metricsRegistry;
}

/** The Prometheus text exposition, and its content type. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
}

/** Counters of the agents' traffic, kept by the gateway's HTTP middleware. */
export const syncMetrics = {
  sessionsOpened: new Counter({
    name: 'outpost_sessions_opened_total',
    help: 'Sync sessions opened by agents',
    registers: [metricsRegistry],
  }),
  sessionsRefused: new Counter({
    name: 'outpost_sessions_refused_total',
    help: 'Sync sessions refused, by HTTP status (401 unknown client or bad secret, 403 deactivated, ...)',
    labelNames: ['status'] as const,
    registers: [metricsRegistry],
  }),
  bytesReceived: new Counter({
    name: 'outpost_bytes_received_total',
    help: 'Bytes received from HTTP clients (headers included), by route',
    labelNames: ['route'] as const,
    registers: [metricsRegistry],
  }),
  bytesSent: new Counter({
    name: 'outpost_bytes_sent_total',
    help: 'Bytes sent to HTTP clients (headers included), by route',
    labelNames: ['route'] as const,
    registers: [metricsRegistry],
  }),
  filesReceived: new Counter({
    name: 'outpost_files_received_total',
    help: 'DX files accepted from agents (stored in the inbox)',
    registers: [metricsRegistry],
  }),
  filesRefused: new Counter({
    name: 'outpost_files_refused_total',
    help: 'DX file uploads refused, by HTTP status (checksum, format, wrong client, ...)',
    labelNames: ['status'] as const,
    registers: [metricsRegistry],
  }),
  uploadPartsStored: new Counter({
    name: 'outpost_upload_parts_stored_total',
    help: 'Parts of resumable uploads the server kept (a part cut on the way is not counted)',
    registers: [metricsRegistry],
  }),
  uploadPartBytes: new Counter({
    name: 'outpost_upload_part_bytes_total',
    help: 'Bytes of the parts of resumable uploads the server kept',
    registers: [metricsRegistry],
  }),
  filesSent: new Counter({
    name: 'outpost_files_sent_total',
    help: 'DX files downloaded by agents',
    registers: [metricsRegistry],
  }),
  httpRequests: new Counter({
    name: 'outpost_http_requests_total',
    help: 'HTTP requests served, by route and status class',
    labelNames: ['route', 'status'] as const,
    registers: [metricsRegistry],
  }),
};

/** The applier's work on upload files. */
export const applyMetrics = {
  chunks: new Counter({
    name: 'outpost_apply_chunks_total',
    help: 'Chunks of upload files the applier resolved and wrote, each bounded by APPLY_CHUNK_TXNS transactions and APPLY_CHUNK_BYTES of decoded lines (a chunk rolled back with its file counts too)',
    registers: [metricsRegistry],
  }),
};

/** The router's change capture. */
export const captureMetrics = {
  writes: new Counter({
    name: 'outpost_capture_writes_total',
    help: 'Batches of captured rows the router wrote to its log with their stream position, by kind (whole: ends at a commit; partial: part of a transaction larger than CAPTURE_BATCH_ROWS or CAPTURE_BATCH_BYTES)',
    labelNames: ['kind'] as const,
    registers: [metricsRegistry],
  }),
  pauses: new Counter({
    name: 'outpost_capture_pauses_total',
    help: 'Times the capture paused its replication socket because decoded messages waiting to be handled reached 500 or 16 MiB',
    registers: [metricsRegistry],
  }),
  restarts: new Counter({
    name: 'outpost_capture_restarts_total',
    help: 'Times the capture stopped on an error and read the slot again from its last confirmed position (the router log says why); nothing is lost, but Postgres decodes that WAL again',
    registers: [metricsRegistry],
  }),
};

/** What the router's retention removed (docs/architecture.md "Retention"). */
export const retentionMetrics = {
  pruned: new Counter({
    name: 'outpost_retention_pruned_total',
    help: 'Items removed by retention, by kind (log, conflict, refusal, auth_audit, inbox_file, outbound_file, upload_part); reextract: clients given a snapshot instead',
    labelNames: ['kind'] as const,
    registers: [metricsRegistry],
  }),
};

/** A gauge whose value is read when Prometheus scrapes (from the database, usually). */
export function scrapedGauge<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
  read: (gauge: Gauge<L>) => Promise<void>,
): Gauge<L> {
  return new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [metricsRegistry],
    async collect() {
      this.reset();
      await read(this);
    },
  });
}
