import type { ClientProxy } from '@nestjs/microservices';
import { ErrorCode, patterns, queueName, type InboxFileView } from '@outpost/contracts';
import { callRpc, rmqClient, rpcCredentials, type DomainError } from '@outpost/server-kit';
import { startStack, uniquePrefix, waitFor, type Stack } from '@outpost/test-support';
import { inboxKey, ObjectStore, outboxKey, quarantineKey } from '@outpost/storage';
import { connect, type ChannelModel } from 'amqplib';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { sqlClient, type Sql } from './support/database';
import { stackObjectStore } from './support/s3';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('inbox-store', () => {
  let stack: Stack;
  let db: Sql;
  let base: string;
  let store: ObjectStore;
  let rpc: ClientProxy;
  let amqp: ChannelModel;
  /** The gateway's calls: every internal endpoint needs the service token. */
  const ifetch = (url: string, init: RequestInit = {}) =>
    fetch(url, {
      ...init,
      headers: {
        ...(init.headers as Record<string, string>),
        authorization: `Bearer ${stack.internalToken}`,
      },
    });

  const put = (client: string, fileSeq: number, body: Buffer, headers: Record<string, string> = {}) =>
    ifetch(`${base}/internal/inbox/${client}/${fileSeq}`, {
      method: 'PUT',
      body,
      headers: {
        'content-type': 'application/octet-stream',
        'x-dx-sha256': sha(body),
        'x-dx-count': '2',
        'x-dx-first-seq': '1',
        'x-dx-last-seq': '2',
        ...headers,
      },
    });

  beforeAll(async () => {
    stack = await startStack({ services: ['inbox-store'] });
    base = stack.inboxStoreUrl;
    store = stackObjectStore(stack);
    db = sqlClient(stack.databaseUrl);
    await db.query(
      `INSERT INTO sync_client (name, user_login, secret_hash) VALUES ('lap-1', 'u', 'x'), ('lap-2', 'u', 'x')`,
    );
    rpc = rmqClient(stack.env.AMQP_URL, stack.queuePrefix, 'inboxStoreRpc');
    amqp = await connect(stack.env.AMQP_URL);
  });

  afterAll(async () => {
    await rpc?.close();
    await amqp?.close();
    await db?.end();
    // Stops the inbox-store, deletes its queues and drops its database.
    await stack?.stop();
  });

  it('answers /healthz once ready', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('stores a file under its inbox key with a received row', async () => {
    const body = Buffer.from('first file bytes');
    const res = await put('lap-1', 1, body);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      status: 'stored',
      objectKey: inboxKey('lap-1', 1),
      sha256: sha(body),
      size: body.length,
    });
    const [row] = await db.query(
      'SELECT status, sha256, size, txn_count, first_seq, last_seq FROM sync_inbox_file WHERE client = $1 AND file_seq = 1',
      ['lap-1'],
    );
    expect(row).toEqual({
      status: 'received',
      sha256: sha(body),
      size: String(body.length),
      txn_count: 2,
      first_seq: 1,
      last_seq: 2,
    });
    expect((await store.stat(store.inboxBucket, inboxKey('lap-1', 1)))?.size).toBe(body.length);
    expect(await store.list(store.inboxBucket, 'staging/')).toEqual([]);

    const head = await ifetch(`${base}/internal/inbox/lap-1/1`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('x-dx-sha256')).toBe(sha(body));
    expect((await ifetch(`${base}/internal/inbox/lap-1/99`, { method: 'HEAD' })).status).toBe(404);
  });

  it('answers duplicate for the same bytes and FILE_SEQ_TAKEN for other bytes', async () => {
    const body = Buffer.from('second file');
    expect((await put('lap-1', 2, body)).status).toBe(201);
    const dup = await put('lap-1', 2, body);
    expect(dup.status).toBe(200);
    expect(((await dup.json()) as { status: string }).status).toBe('duplicate');
    const taken = await put('lap-1', 2, Buffer.from('other bytes'));
    expect(taken.status).toBe(409);
    const err = (await taken.json()) as { error: { code: string; correlationId: string } };
    expect(err.error.code).toBe(ErrorCode.FileSeqTaken);
    expect(err.error.correlationId).toBeTruthy();
    const rows = await db.query('SELECT sha256 FROM sync_inbox_file WHERE client = $1 AND file_seq = 2', [
      'lap-1',
    ]);
    expect(rows).toEqual([{ sha256: sha(body) }]);
  });

  it('refuses a checksum mismatch and keeps neither row nor object', async () => {
    const res = await put('lap-2', 1, Buffer.from('corrupted on the way'), {
      'x-dx-sha256': sha('what was sent'),
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(ErrorCode.ChecksumMismatch);
    expect(await db.query('SELECT 1 FROM sync_inbox_file WHERE client = $1', ['lap-2'])).toEqual([]);
    expect(await store.list(store.inboxBucket, 'inbox/lap-2/')).toEqual([]);
    expect(await store.list(store.inboxBucket, 'staging/lap-2/')).toEqual([]);
  });

  it('stages without a row, then commits or discards', async () => {
    const body = Buffer.from('staged bytes');
    const staged = await put('lap-2', 1, body, {
      'x-dx-validate': 'pending',
      'x-dx-count': '',
      'x-dx-first-seq': '',
      'x-dx-last-seq': '',
    });
    expect(staged.status).toBe(202);
    const { uploadId } = (await staged.json()) as { uploadId: string };
    expect(await db.query('SELECT 1 FROM sync_inbox_file WHERE client = $1', ['lap-2'])).toEqual([]);
    const commit = await ifetch(`${base}/internal/inbox/lap-2/1/commit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uploadId, sha256: sha(body), txnCount: 1, firstSeq: 5, lastSeq: 5 }),
    });
    expect(commit.status).toBe(201);
    expect(await store.list(store.inboxBucket, 'staging/lap-2/')).toEqual([]);
    expect((await store.stat(store.inboxBucket, inboxKey('lap-2', 1)))?.size).toBe(body.length);

    const other = await put('lap-2', 2, Buffer.from('invalid dx'), { 'x-dx-validate': 'pending' });
    const { uploadId: discardId } = (await other.json()) as { uploadId: string };
    expect(
      (await ifetch(`${base}/internal/inbox/lap-2/2/staged/${discardId}`, { method: 'DELETE' })).status,
    ).toBe(204);
    expect(await store.list(store.inboxBucket, 'staging/lap-2/')).toEqual([]);
    expect(
      await db.query('SELECT 1 FROM sync_inbox_file WHERE client = $1 AND file_seq = 2', ['lap-2']),
    ).toEqual([]);
  });

  it('streams an outbound file whole and from an offset', async () => {
    const bytes = Buffer.from('0123456789');
    await store.putStream(store.outboxBucket, outboxKey('lap-1', 1, 4), Readable.from([bytes]));
    const whole = await ifetch(`${base}/internal/outbox/lap-1/1/4`);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).toString()).toBe('0123456789');
    const tail = await ifetch(`${base}/internal/outbox/lap-1/1/4`, { headers: { range: 'bytes=6-' } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe('bytes 6-9/10');
    expect(await tail.text()).toBe('6789');
    expect(
      (await ifetch(`${base}/internal/outbox/lap-1/1/4`, { headers: { range: 'bytes=10-' } })).status,
    ).toBe(416);
    const missing = await ifetch(`${base}/internal/outbox/lap-1/1/5`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(ErrorCode.FileNotFound);
  });

  it('lists the inbox with waiting files and retries a quarantined file', async () => {
    // What the applier does on a failure: the object moves to quarantine, the row says why.
    await store.move(store.inboxBucket, inboxKey('lap-1', 1), store.inboxBucket, quarantineKey('lap-1', 1));
    await db.query(
      `UPDATE sync_inbox_file SET status = 'quarantined', reason = 'unknown table x', object_key = $1 WHERE client = 'lap-1' AND file_seq = 1`,
      [quarantineKey('lap-1', 1)],
    );
    const call = <T>(pattern: string, data: object) =>
      callRpc<T>(rpc, pattern, data, uniquePrefix('c'), { headers: rpcCredentials(stack.internalToken) });
    const views = await call<InboxFileView[]>(patterns.inboxList, { client: 'lap-1' });
    expect(views.map((v) => [v.fileSeq, v.status, v.waiting, v.reason])).toEqual([
      [1, 'quarantined', false, 'unknown table x'],
      [2, 'received', true, null],
    ]);

    const ch = await amqp.createChannel();
    const inboxQueue = queueName(stack.queuePrefix, 'dxInbox');
    await ch.assertQueue(inboxQueue, { durable: true });
    await ch.purgeQueue(inboxQueue);
    const retried = await call<InboxFileView>(patterns.inboxRetry, { client: 'lap-1', fileSeq: 1 });
    expect(retried).toMatchObject({ fileSeq: 1, status: 'received', reason: null, waiting: false });
    expect(await store.stat(store.inboxBucket, quarantineKey('lap-1', 1))).toBeNull();
    expect(await store.stat(store.inboxBucket, inboxKey('lap-1', 1))).not.toBeNull();
    const msg = await waitFor(async () => (await ch.get(inboxQueue, { noAck: true })) || undefined, {
      timeoutMs: 15_000,
      intervalMs: 50,
      description: 'a dx.file.received event',
    });
    expect(JSON.parse(msg.content.toString())).toEqual({
      pattern: 'dx.file.received',
      data: {
        client: 'lap-1',
        fileSeq: 1,
        objectKey: inboxKey('lap-1', 1),
        sha256: sha('first file bytes'),
        size: 16,
      },
    });
    await ch.close();

    const again = await call(patterns.inboxRetry, { client: 'lap-1', fileSeq: 1 }).catch(
      (e: DomainError) => e,
    );
    expect((again as DomainError).code).toBe(ErrorCode.ValidationFailed);
  });
});
