import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as Minio from 'minio';
import { Pool } from 'pg';
import { createTestDatabase, startStack, uniquePrefix, type Stack } from '@outpost/test-support';
import { adminJson } from './cli';

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
  close(): Promise<void>;
}

export async function createWorld(): Promise<World> {
  const prefix = uniquePrefix();
  const database = await createTestDatabase(prefix);
  const stack = await startStack({ databaseUrl: database.url, queuePrefix: prefix, bucketPrefix: prefix });
  const db = new Pool({ connectionString: database.url, max: 4 });
  const s3 = s3Client();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'outpost-laptops-'));
  return {
    stack,
    db,
    s3,
    prefix,
    inboxBucket: `${prefix}-inbox`,
    outboxBucket: `${prefix}-outbox`,
    laptopDir: (name) => path.join(tmp, `${name}-${randomUUID().slice(0, 8)}`),
    register: async (name, userLogin) => {
      const out = await adminJson<{ secret: string }>(['clients', 'add', name, '--user', userLogin], stack);
      return out.secret;
    },
    close: async () => {
      await stack.stop();
      await db.end();
      await database.drop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export function s3Client(): Minio.Client {
  const endpoint = new URL(required('S3_ENDPOINT'));
  return new Minio.Client({
    endPoint: endpoint.hostname,
    port: Number(endpoint.port || (endpoint.protocol === 'https:' ? 443 : 80)),
    useSSL: endpoint.protocol === 'https:',
    accessKey: required('S3_ACCESS_KEY'),
    secretKey: required('S3_SECRET_KEY'),
    region: process.env.S3_REGION ?? 'us-east-1',
    pathStyle: true,
  });
}

export async function listKeys(s3: Minio.Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of s3.listObjectsV2(bucket, prefix, true)) {
    if ('name' in item && item.name) keys.push(item.name);
  }
  return keys.sort();
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration tests' global setup provides it`);
  return value;
}
