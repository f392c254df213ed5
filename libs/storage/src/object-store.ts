import { Client, CopyConditions } from 'minio';
import type { Readable } from 'node:stream';
import { inboxBucket, outboxBucket } from './layout';

export interface StorageConfig {
  s3Endpoint: string;
  s3AccessKey: string;
  s3SecretKey: string;
  s3Region: string;
  s3BucketPrefix: string;
}

export interface ObjectStat {
  size: number;
  etag: string;
  lastModified: Date;
}

/** Byte range, both ends inclusive as in HTTP; `end` absent means to the end of the object. */
export interface ByteRange {
  start: number;
  end?: number;
}

/** S3's smallest part but the last is 5 MiB; a little more keeps part counts low for big extracts. */
const PART_SIZE = 8 * 1024 * 1024;

/** Regroups a byte stream into parts of exactly `partSize` bytes (the last may be shorter). */
async function* partsOf(body: Readable, partSize: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of body) {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    while (pendingBytes + buf.length >= partSize) {
      const take = partSize - pendingBytes;
      pending.push(buf.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      buf = buf.subarray(take);
    }
    if (buf.length > 0) {
      pending.push(buf);
      pendingBytes += buf.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

/** S3 error codes meaning "no such object". */
const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchObject']);

export function isNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NOT_FOUND.has(code);
}

/** Object storage over the `minio` client, path-style so it works with MinIO and any S3. */
export class ObjectStore {
  readonly inboxBucket: string;
  readonly outboxBucket: string;

  constructor(
    private readonly client: Client,
    private readonly region: string,
    bucketPrefix: string,
  ) {
    this.inboxBucket = inboxBucket(bucketPrefix);
    this.outboxBucket = outboxBucket(bucketPrefix);
  }

  static fromConfig(cfg: StorageConfig): ObjectStore {
    const endpoint = new URL(cfg.s3Endpoint);
    const useSSL = endpoint.protocol === 'https:';
    const client = new Client({
      endPoint: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : useSSL ? 443 : 80,
      useSSL,
      accessKey: cfg.s3AccessKey,
      secretKey: cfg.s3SecretKey,
      region: cfg.s3Region,
      pathStyle: true,
    });
    return new ObjectStore(client, cfg.s3Region, cfg.s3BucketPrefix);
  }

  /** Whether the store answers for the inbox bucket (readiness). */
  inboxBucketExists(): Promise<boolean> {
    return this.client.bucketExists(this.inboxBucket);
  }

  /** Creates both buckets if missing; safe when several services start at once. */
  async ensureBuckets(): Promise<void> {
    for (const bucket of [this.inboxBucket, this.outboxBucket]) {
      if (await this.client.bucketExists(bucket)) continue;
      try {
        await this.client.makeBucket(bucket, this.region);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
      }
    }
  }

  /**
   * Streams a body into an object holding at most one part in memory: a body smaller than a part
   * is one PUT, a larger one a multipart upload driven here (not by minio's putObject, which
   * buffers up to 64 MiB and looks up earlier incomplete uploads, a call not every S3 serves).
   */
  async putStream(bucket: string, key: string, body: Readable): Promise<{ etag: string; size: number }> {
    const parts = partsOf(body, PART_SIZE);
    const first = await parts.next();
    const firstPart = first.done ? Buffer.alloc(0) : first.value;
    const second = first.done ? first : await parts.next();
    if (second.done) {
      const info = await this.client.putObject(bucket, key, firstPart, firstPart.length);
      return { etag: info.etag, size: firstPart.length };
    }
    const uploadID = await this.client.initiateNewMultipartUpload(bucket, key, {});
    try {
      const etags: Array<{ part: number; etag: string }> = [];
      let size = 0;
      const upload = async (payload: Buffer) => {
        const partNumber = etags.length + 1;
        const res = await this.client.uploadPart(
          { bucketName: bucket, objectName: key, uploadID, partNumber, headers: {} },
          payload,
        );
        etags.push({ part: partNumber, etag: res.etag });
        size += payload.length;
      };
      await upload(firstPart);
      await upload(second.value);
      for await (const part of parts) await upload(part);
      const done = await this.client.completeMultipartUpload(bucket, key, uploadID, etags);
      return { etag: done.etag, size };
    } catch (err) {
      await this.client.abortMultipartUpload(bucket, key, uploadID).catch(() => undefined);
      throw err;
    }
  }

  async getStream(bucket: string, key: string, range?: ByteRange): Promise<Readable> {
    if (!range) return this.client.getObject(bucket, key);
    const length = range.end === undefined ? undefined : range.end - range.start + 1;
    return this.client.getPartialObject(bucket, key, range.start, length);
  }

  /** The object's size and etag, or null when it does not exist. */
  async stat(bucket: string, key: string): Promise<ObjectStat | null> {
    try {
      const s = await this.client.statObject(bucket, key);
      return { size: s.size, etag: s.etag, lastModified: s.lastModified };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async copy(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string): Promise<void> {
    await this.client.copyObject(dstBucket, dstKey, `/${srcBucket}/${srcKey}`, new CopyConditions());
  }

  /** Copy, then remove the source: a crash in between leaves two copies, never none. */
  async move(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string): Promise<void> {
    await this.copy(srcBucket, srcKey, dstBucket, dstKey);
    await this.remove(srcBucket, srcKey);
  }

  /** Removing a missing object succeeds, so cleanup can be retried. */
  async remove(bucket: string, key: string): Promise<void> {
    await this.client.removeObject(bucket, key);
  }

  /** Every object under `prefix` with its size. */
  async listSizes(bucket: string, prefix: string): Promise<Array<{ key: string; size: number }>> {
    const found: Array<{ key: string; size: number }> = [];
    const stream = this.client.listObjectsV2(bucket, prefix, true);
    for await (const item of stream as AsyncIterable<{ name?: string; size?: number }>) {
      if (item.name) found.push({ key: item.name, size: item.size ?? 0 });
    }
    return found;
  }

  /** Every object under `prefix` last written before `before`. */
  async listOlder(bucket: string, prefix: string, before: Date): Promise<string[]> {
    const found: string[] = [];
    const stream = this.client.listObjectsV2(bucket, prefix, true);
    for await (const item of stream as AsyncIterable<{ name?: string; lastModified?: Date }>) {
      if (item.name && item.lastModified && item.lastModified.getTime() < before.getTime())
        found.push(item.name);
    }
    return found;
  }

  async list(bucket: string, prefix: string): Promise<string[]> {
    const names: string[] = [];
    const stream = this.client.listObjectsV2(bucket, prefix, true);
    for await (const item of stream as AsyncIterable<{ name?: string }>) {
      if (item.name) names.push(item.name);
    }
    return names;
  }
}
