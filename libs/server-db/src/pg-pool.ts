import { Client, Pool, type ClientConfig, type PoolConfig } from 'pg';

/** Where a lost connection is reported; the default writes one line to stderr. */
export type PgErrorSink = (err: Error) => void;

let sink: PgErrorSink = (err) => {
  process.stderr.write(`postgres connection lost (the pool replaces it): ${err.message}\n`);
};

/** Lets a service route lost-connection reports to its own logger. */
export function onPgConnectionError(report: PgErrorSink): void {
  sink = report;
}

/**
 * A pg client that never takes its process down. pg emits `error` on a client whose connection
 * dies (Postgres restarted: "terminating connection due to administrator command"); the pool
 * listens only while the client is idle, so a client checked out at that moment, with no
 * listener of its own, ends the process with an unhandled `error` event. Its queries fail
 * anyway, which is where the caller retries; the event itself only needs to be heard.
 */
export class ResilientPgClient extends Client {
  constructor(config?: string | ClientConfig) {
    super(config);
    this.on('error', (err: Error) => sink(err));
  }
}

/** The one way services open a raw pg pool: every client survives a lost connection. */
export function createPgPool(config: PoolConfig): Pool {
  const pool = new Pool({ ...config, Client: ResilientPgClient });
  pool.on('error', (err: Error) => sink(err));
  return pool;
}
