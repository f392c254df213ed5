/**
 * Test helpers for the front services (registry, inbox-store, gateway): a private database per
 * test file, s3rver on a free loopback port, and the services launched as child processes from
 * their built dist/main.js, exactly as the stack runs them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import {
  createTestDatabase as createDatabase,
  startS3rver as startS3rverServer,
  waitFor,
  type RunningS3rver,
} from '@outpost/test-support';
import { Client } from 'pg';

export const REPO_ROOT = resolve(__dirname, '..', '..');

export function baseUrls(): { databaseUrl: string; amqpUrl: string } {
  return {
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    amqpUrl: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface TestDatabase {
  url: string;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A fresh database on the test server (from @outpost/test-support), with a lazily connected client for assertions. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const database = await createDatabase(prefix, baseUrls().databaseUrl);
  let client: Client | null = null;
  return {
    url: database.url,
    async query<T>(sql: string, params?: unknown[]) {
      if (!client) {
        client = new Client({ connectionString: database.url });
        await client.connect();
      }
      return (await client.query(sql, params)).rows as T[];
    },
    async drop() {
      if (client) await client.end();
      await database.drop();
    },
  };
}

export type S3Server = RunningS3rver;
export const startS3rver = (): Promise<S3Server> => startS3rverServer();

export interface LaunchedService {
  name: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node services/<name>/dist/main.js` and resolves once it prints `<name> ready on`. */
export async function launchService(
  name: string,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<LaunchedService> {
  const main = join(REPO_ROOT, 'services', name, 'dist', 'main.js');
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready after ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`${name} ready on`)) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before it was ready:\n${output}`));
    });
  });
  return {
    name,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Polls `probe` until it returns a value, or fails at the deadline naming `what`. */
export function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  return waitFor(probe, { timeoutMs, intervalMs: 50, description: what }) as Promise<T>;
}
