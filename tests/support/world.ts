import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as Minio from 'minio';
import { Pool } from 'pg';
import {
  createTestDatabase,
  startStack,
  uniquePrefix,
  waitFor,
  type Stack,
  type StartStackOptions,
} from '@outpost/test-support';
import { adminJson, agentJson } from './cli';
import { s3Client } from './s3';

/**
 * One isolated world for an end-to-end test: its own database, queue prefix and buckets on the
 * shared servers, the five services as separate processes, and direct clients for assertions.
 */
export interface World {
  stack: Stack;
  db: Pool;
  s3: Minio.Client;
  prefix: string;
  inboxBucket: string;
  outboxBucket: string;
  /** A fresh directory for a laptop. */
  laptopDir(name: string): string;
  /** Registers a client through sync-admin and returns its secret. */
  register(name: string, userLogin: string): Promise<string>;
  /** Registers a client and initialises its laptop folder (with the initial extract unless told not to). */
  laptop(name: string, userLogin: string, options?: { extract?: boolean }): Promise<string>;
  /** Waits until the server has applied the client's upload file. */
  applied(client: string, fileSeq: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * `env`: extra environment for every service (for example a smaller retry limit); `gatewayTls`: HTTPS;
 * `schema`: the synced schema the stack runs (SCHEMA) and laptops are set up with (default sales).
 */
export async function createWorld(
  options: {
    env?: Record<string, string>;
    gatewayTls?: StartStackOptions['gatewayTls'];
    schema?: string;
  } = {},
): Promise<World> {
  const prefix = uniquePrefix();
  const database = await createTestDatabase(prefix);
  const stack = await startStack({
    databaseUrl: database.url,
    queuePrefix: prefix,
    bucketPrefix: prefix,
    env: options.schema ? { ...options.env, SCHEMA: options.schema } : options.env,
    gatewayTls: options.gatewayTls,
  });
  const schemaArgs = options.schema ? ['--schema', options.schema.split('@')[0]] : [];
  const db = new Pool({ connectionString: database.url, max: 4 });
  const s3 = s3Client();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'outpost-laptops-'));
  const laptopDir = (name: string) => path.join(tmp, `${name}-${randomUUID().slice(0, 8)}`);
  const register = async (name: string, userLogin: string) => {
    const out = await adminJson<{ secret: string }>(['clients', 'add', name, '--user', userLogin], stack);
    return out.secret;
  };
  return {
    stack,
    db,
    s3,
    prefix,
    inboxBucket: `${prefix}-inbox`,
    outboxBucket: `${prefix}-outbox`,
    laptopDir,
    register,
    laptop: async (name, userLogin, options = {}) => {
      const secret = await register(name, userLogin);
      const dir = laptopDir(name);
      const args = [
        'init',
        '--dir',
        dir,
        '--server',
        stack.gatewayUrl,
        '--client',
        name,
        '--secret',
        secret,
        ...schemaArgs,
      ];
      await agentJson(options.extract === false ? [...args, '--no-extract'] : args);
      return dir;
    },
    applied: async (client, fileSeq) => {
      await waitFor(
        async () =>
          (
            await db.query(
              `SELECT 1 FROM sync_inbox_file WHERE client = $1 AND file_seq = $2 AND status = 'applied'`,
              [client, fileSeq],
            )
          ).rowCount === 1,
        { timeoutMs: 30_000, description: `${client} upload file ${fileSeq} applied on the server` },
      );
    },
    close: async () => {
      await stack.stop();
      await db.end();
      await database.drop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
