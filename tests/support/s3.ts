import { ObjectStore } from '@outpost/storage';
import type { Stack } from '@outpost/test-support';
import * as Minio from 'minio';

/*
 * The one way tests reach the S3 server the global setup started (or the one a test's stack
 * uses): a raw client for listing and reading objects, or the services' own ObjectStore.
 */

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

/** The services' ObjectStore on the test S3 server, with buckets under `bucketPrefix`. */
export function testObjectStore(bucketPrefix: string): ObjectStore {
  return ObjectStore.fromConfig({
    s3Endpoint: required('S3_ENDPOINT'),
    s3AccessKey: required('S3_ACCESS_KEY'),
    s3SecretKey: required('S3_SECRET_KEY'),
    s3Region: process.env.S3_REGION ?? 'us-east-1',
    s3BucketPrefix: bucketPrefix,
  });
}

/** The services' ObjectStore on a test stack's buckets: the layout and calls the services use. */
export function stackObjectStore(stack: Stack): ObjectStore {
  return ObjectStore.fromConfig({
    s3Endpoint: stack.env.S3_ENDPOINT,
    s3AccessKey: stack.env.S3_ACCESS_KEY,
    s3SecretKey: stack.env.S3_SECRET_KEY,
    s3Region: stack.env.S3_REGION,
    s3BucketPrefix: stack.bucketPrefix,
  });
}
