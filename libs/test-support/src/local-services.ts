import { connect } from 'amqplib';
import { Client } from 'pg';
import { ensureDatabase, withDatabase } from './database';
import { LOCAL_AMQP_URL, LOCAL_DATABASE_URL, type LocalServices } from './service-plan';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Tries Postgres and RabbitMQ on their default loopback ports with their default credentials, for
 * the services whose variable is unset: a developer machine with both running needs no
 * configuration. A port that answers but refuses the credentials counts as not there.
 */
export async function probeLocalServices(env: Env, timeoutMs = 3_000): Promise<LocalServices> {
  const [postgres, rabbitmq] = await Promise.all([
    isSet(env.DATABASE_URL) ? false : postgresAnswers(LOCAL_DATABASE_URL, timeoutMs),
    isSet(env.AMQP_URL) ? false : rabbitMqAnswers(LOCAL_AMQP_URL, timeoutMs),
  ]);
  return { postgres, rabbitmq };
}

/** Connects to the server's `postgres` database, then makes sure the database `url` names exists. */
export async function postgresAnswers(url: string, timeoutMs: number): Promise<boolean> {
  const client = new Client({
    connectionString: withDatabase(url, 'postgres'),
    connectionTimeoutMillis: timeoutMs,
  });
  try {
    await client.connect();
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
  await ensureDatabase(url);
  return true;
}

export async function rabbitMqAnswers(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const connection = await connect(url, { timeout: timeoutMs });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}
