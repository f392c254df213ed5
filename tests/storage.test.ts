import { type ObjectStore, inboxKey, stagingKey } from '@outpost/storage';
import { Readable } from 'node:stream';
import { uniquePrefix } from '@outpost/test-support';
import { testObjectStore } from './support/s3';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('ObjectStore against the test S3 server', () => {
  let store: ObjectStore;

  beforeAll(async () => {
    store = testObjectStore(uniquePrefix('st'));
    await store.ensureBuckets();
  });

  it('creates buckets idempotently', async () => {
    await expect(store.ensureBuckets()).resolves.toBeUndefined();
  });

  it('stores a stream, stats it and reads it back whole and by range', async () => {
    const body = Buffer.from('0123456789abcdef');
    const key = inboxKey('laptop-1', 1);
    await store.putStream(store.inboxBucket, key, Readable.from([body.subarray(0, 5), body.subarray(5)]));
    expect((await store.stat(store.inboxBucket, key))?.size).toBe(16);
    expect((await readAll(await store.getStream(store.inboxBucket, key))).toString()).toBe(
      '0123456789abcdef',
    );
    expect((await readAll(await store.getStream(store.inboxBucket, key, { start: 10 }))).toString()).toBe(
      'abcdef',
    );
    expect(
      (await readAll(await store.getStream(store.inboxBucket, key, { start: 2, end: 4 }))).toString(),
    ).toBe('234');
  });

  it('streams a body larger than one part as a multipart upload', async () => {
    const part = Buffer.alloc(1024 * 1024, 7);
    const parts = Array.from({ length: 9 }, (_, i) => (i === 8 ? Buffer.from('tail') : part));
    const key = inboxKey('laptop-big', 1);
    const put = await store.putStream(store.inboxBucket, key, Readable.from(parts));
    expect(put.size).toBe(8 * 1024 * 1024 + 4);
    expect((await store.stat(store.inboxBucket, key))?.size).toBe(8 * 1024 * 1024 + 4);
    const tail = await readAll(await store.getStream(store.inboxBucket, key, { start: 8 * 1024 * 1024 }));
    expect(tail.toString()).toBe('tail');
  });

  it('moves an object and lists by prefix', async () => {
    const src = stagingKey('laptop-2', 3, 'aaaaaaaa-1111');
    const dst = inboxKey('laptop-2', 3);
    await store.putStream(store.inboxBucket, src, Readable.from([Buffer.from('moved')]));
    await store.move(store.inboxBucket, src, store.inboxBucket, dst);
    expect(await store.stat(store.inboxBucket, src)).toBeNull();
    expect((await readAll(await store.getStream(store.inboxBucket, dst))).toString()).toBe('moved');
    expect(await store.list(store.inboxBucket, 'inbox/laptop-2/')).toEqual([dst]);
  });

  it('copies across buckets, and removing a missing object succeeds', async () => {
    const key = inboxKey('laptop-3', 1);
    await store.putStream(store.inboxBucket, key, Readable.from([Buffer.from('x')]));
    await store.copy(store.inboxBucket, key, store.outboxBucket, 'outbox/laptop-3/1/000000000001.dx');
    expect((await store.stat(store.outboxBucket, 'outbox/laptop-3/1/000000000001.dx'))?.size).toBe(1);
    await store.remove(store.inboxBucket, key);
    await expect(store.remove(store.inboxBucket, key)).resolves.toBeUndefined();
    expect(await store.stat(store.inboxBucket, key)).toBeNull();
  });
});
