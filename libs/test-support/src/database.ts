import { Client } from 'pg';
import { TestSupportError, TestSupportErrorCode } from './errors';
import { uniqueDatabaseName } from './prefix';

export interface TestDatabase {
  name: string;
  /** DATABASE_URL of the new database: same server and credentials, its own name. */
  url: string;
  /** Drops the database, disconnecting anyone still connected. */
  drop(): Promise<void>;
}

/**
 * Creates an empty database with a unique name on the server of `serverUrl` (default DATABASE_URL),
 * so each test file or stack works in isolation on one shared server.
 */
export async function createTestDatabase(
  prefix = 'test',
  serverUrl = process.env.DATABASE_URL,
): Promise<TestDatabase> {
  const base = requireUrl(serverUrl);
  const name = uniqueDatabaseName(prefix);
  await withClient(base, (client) => client.query(`CREATE DATABASE ${quoteIdent(name)}`));
  return {
    name,
    url: withDatabase(base, name),
    drop: () => withClient(base, (client) => dropDatabase(client, name)),
  };
}

/** Creates the database named in `url` if it does not exist yet (connecting to the server's `postgres` database). */
export async function ensureDatabase(url: string): Promise<{ created: boolean }> {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) {
    throw new TestSupportError(
      TestSupportErrorCode.InvalidOption,
      `DATABASE_URL names no database: ${redact(url)}`,
    );
  }
  return withClient(withDatabase(url, 'postgres'), async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return { created: false };
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
      return { created: true };
    } catch (error) {
      // Another process created it between the check and the CREATE.
      if ((error as { code?: string }).code === '42P04') return { created: false };
      throw error;
    }
  });
}

/** `url` with its database name replaced. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** `url` without its password, for messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    throw new TestSupportError(
      TestSupportErrorCode.ServicesUnavailable,
      `cannot connect to Postgres at ${redact(url)}: ${(error as Error).message}; check DATABASE_URL and that the server is running`,
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Drops the database and the replication slots on it first: Postgres refuses to drop a database
 * that has a slot, and a slot left behind would keep WAL on the server for ever.
 */
async function dropDatabase(client: Client, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await client.query(
      `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL`,
      [name],
    );
    try {
      await client.query(
        `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1`,
        [name],
      );
      break;
    } catch (error) {
      // 55006: the slot's reader has not let go yet (it was just terminated).
      if ((error as { code?: string }).code !== '55006' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

function requireUrl(url: string | undefined): string {
  if (url && url.trim() !== '') return url;
  throw new TestSupportError(
    TestSupportErrorCode.ServicesUnavailable,
    'DATABASE_URL is not set: run the test under the jest global setup (tests/support) or call getServices() first',
  );
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
