/**
 * Postgres conditions that say nothing about the file: the connection, the server or a concurrent
 * transaction got in the way, and the same file will apply when tried again.
 */
const TRANSIENT_SQLSTATE = [
  /^08/, // connection exception
  /^40001$/, // serialization failure
  /^40P01$/, // deadlock detected
  /^53/, // insufficient resources (too many connections, out of memory or disk)
  /^55P03$/, // lock not available
  /^57P0[1-5]$/, // admin shutdown, crash shutdown, cannot connect now, database dropped, idle session timeout
  /^57014$/, // query cancelled (statement timeout, pg_cancel_backend)
  /^58/, // system error (I/O)
  /^XX/, // internal error
];

/** Node system errors of a connection to Postgres or to object storage. */
const TRANSIENT_SYSTEM = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Messages of pg and of the S3 client when the other side went away without a system error code. */
const TRANSIENT_MESSAGE =
  /Connection terminated|connection timeout|Client has encountered a connection error|socket hang up|timeout exceeded|Client was closed|premature close|ServiceUnavailable|SlowDown|RequestTimeout/i;

/**
 * True for a failure worth retrying without counting it against the file: the dependency was not
 * there. Everything else is counted; a file that fails the same way often enough is quarantined.
 */
export function isTransient(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; severity?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined && e.severity !== undefined) return TRANSIENT_SQLSTATE.some((re) => re.test(code));
  if (code !== undefined && TRANSIENT_SYSTEM.has(code)) return true;
  if (typeof e.message === 'string' && TRANSIENT_MESSAGE.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err && isTransient(e.cause);
}

/** What makes two failures "the same": the code and the message, without volatile details. */
export function failureSignature(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : String(err);
  return `${code}: ${message}`.slice(0, 2000);
}
