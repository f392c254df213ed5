import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** s3rver's fixed credentials: it checks signatures against these and no others. */
export const S3RVER_ACCESS_KEY = 'S3RVER';
export const S3RVER_SECRET_KEY = 'S3RVER';

export interface S3rverOptions {
  /** Loopback port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Where objects are kept; default a fresh temp directory, removed on close. */
  directory?: string;
}

export interface RunningS3rver {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  directory: string;
  close(): Promise<void>;
}

/** Starts s3rver in this process on 127.0.0.1: the S3 stand-in when neither S3_ENDPOINT nor Docker is there. */
export async function startS3rver(options: S3rverOptions = {}): Promise<RunningS3rver> {
  const ownsDirectory = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'outpost-s3rver-')));
  // Path-style addressing only: a loopback IP has no bucket subdomains.
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    vhostBuckets: false,
  });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    accessKey: S3RVER_ACCESS_KEY,
    secretKey: S3RVER_SECRET_KEY,
    directory,
    async close() {
      await server.close();
      if (ownsDirectory) await rm(directory, { recursive: true, force: true });
    },
  };
}
