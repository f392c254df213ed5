import {
  ErrorCode,
  queueName,
  type ClientView,
  type ClientWithSecret,
  type InboxFileView,
  type OpenSessionResponse,
} from '@outpost/contracts';
import { inboxKey, ObjectStore } from '@outpost/storage';
import { defaultRepoRoot, startStack, waitFor, type Stack } from '@outpost/test-support';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { sqlClient, type Sql } from './support/database';
import { uploadFile } from './support/dx-files';
import { stackObjectStore } from './support/s3';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('sync-gateway', () => {
  let stack: Stack;
  let db: Sql;
  let agentUrl: string;
  let adminUrl: string;
  let store: ObjectStore;
  let amqp: ChannelModel;
  let ch: Channel;
  let inboxQueue: string;

  const admin = (method: string, path: string, body?: unknown, token = stack.adminToken) =>
    fetch(`${adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const openSession = (client: string, secret: string) =>
    fetch(`${agentUrl}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client, secret, agentVersion: 'test', formatVersion: 1 }),
    });
  const upload = (token: string, fileSeq: number, bytes: Buffer) =>
    fetch(`${agentUrl}/v1/upload/${fileSeq}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/octet-stream',
        'x-dx-sha256': sha(bytes),
      },
      body: bytes,
    });
  const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
  const nextEvent = async () => {
    const msg = await waitFor(async () => (await ch.get(inboxQueue, { noAck: true })) || undefined, {
      timeoutMs: 15_000,
      intervalMs: 50,
      description: 'a dx.file.received event',
    });
    return JSON.parse(msg.content.toString()) as { pattern: string; data: Record<string, unknown> };
  };

  async function registerAndLogin(name: string): Promise<{ token: string; secret: string }> {
    const added = (await (
      await admin('POST', '/admin/clients', { name, userLogin: 'jdoe' })
    ).json()) as ClientWithSecret;
    const session = (await (await openSession(name, added.secret)).json()) as OpenSessionResponse;
    return { token: session.token, secret: added.secret };
  }

  beforeAll(async () => {
    stack = await startStack({ services: [] });
    // Started together: their migrations race for the advisory lock, as in a real deployment.
    await Promise.all([stack.startService('client-registry'), stack.startService('inbox-store')]);
    await stack.startService('sync-gateway');
    agentUrl = stack.gatewayUrl;
    adminUrl = stack.adminUrl;
    store = stackObjectStore(stack);
    db = sqlClient(stack.databaseUrl);
    amqp = await connect(stack.env.AMQP_URL);
    ch = await amqp.createChannel();
    inboxQueue = queueName(stack.queuePrefix, 'dxInbox');
    await ch.assertQueue(inboxQueue, { durable: true });
  });

  afterAll(async () => {
    await amqp?.close();
    await db?.end();
    // Stops the services, deletes their queues and drops their database.
    await stack?.stop();
  });

  beforeEach(async () => {
    await ch.purgeQueue(inboxQueue);
  });

  it('answers /healthz and refuses the admin API without the admin token', async () => {
    expect((await fetch(`${agentUrl}/healthz`)).status).toBe(200);
    const res = await admin('GET', '/admin/clients', undefined, 'wrong-token');
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe(ErrorCode.AdminTokenInvalid);
  });

  it('refuses a session for an unregistered client and stores nothing for it', async () => {
    const res = await openSession('intruder', 'guess');
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; message: string; correlationId: string } };
    expect(body.error.code).toBe(ErrorCode.ClientAuthFailed);
    expect(body.error.correlationId).toBe(res.headers.get('x-correlation-id'));
    expect(JSON.stringify(body)).not.toMatch(/\bat .*\.js:\d+/);

    const put = await upload('forged-token', 1, await uploadFile('intruder', 1));
    expect(put.status).toBe(401);
    expect(await errorCode(put)).toBe(ErrorCode.SessionInvalid);
    expect(await db.query('SELECT 1 FROM sync_inbox_file WHERE client = $1', ['intruder'])).toEqual([]);
    expect(await db.query('SELECT 1 FROM sync_client WHERE name = $1', ['intruder'])).toEqual([]);
    expect(await store.list(store.inboxBucket, '')).toEqual([]);
  });

  it('tells a bad secret (401) from a deactivated client (403)', async () => {
    const { secret } = await registerAndLogin('lap-gone');
    const bad = await openSession('lap-gone', 'not-the-secret');
    expect([bad.status, await errorCode(bad)]).toEqual([401, ErrorCode.ClientAuthFailed]);
    const deactivated = (await (
      await admin('POST', '/admin/clients/lap-gone/deactivate')
    ).json()) as ClientView;
    expect(deactivated.status).toBe('deactivated');
    const refused = await openSession('lap-gone', secret);
    expect([refused.status, await errorCode(refused)]).toEqual([403, ErrorCode.ClientDeactivated]);
  });

  it('stores a valid upload in the inbox and announces it on the dx.inbox queue', async () => {
    const { token } = await registerAndLogin('lap-1');
    const bytes = await uploadFile('lap-1', 1);
    const res = await upload(token, 1, bytes);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ status: 'stored', fileSeq: 1 });

    const stat = await store.stat(store.inboxBucket, inboxKey('lap-1', 1));
    expect(stat?.size).toBe(bytes.length);
    const [row] = await db.query(
      'SELECT status, sha256, txn_count, first_seq, last_seq FROM sync_inbox_file WHERE client = $1',
      ['lap-1'],
    );
    expect(row).toEqual({ status: 'received', sha256: sha(bytes), txn_count: 2, first_seq: 1, last_seq: 2 });
    expect(await nextEvent()).toEqual({
      pattern: 'dx.file.received',
      data: {
        client: 'lap-1',
        fileSeq: 1,
        objectKey: inboxKey('lap-1', 1),
        sha256: sha(bytes),
        size: bytes.length,
      },
    });

    const head = await fetch(`${agentUrl}/v1/upload/1`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${token}` },
    });
    expect([head.status, head.headers.get('x-dx-sha256')]).toEqual([200, sha(bytes)]);
    const session = (await (
      await openSession(
        'lap-1',
        ((await (await admin('POST', '/admin/clients/lap-1/rotate-secret')).json()) as ClientWithSecret)
          .secret,
      )
    ).json()) as OpenSessionResponse;
    expect(session.lastUploadedFileSeq).toBe(1);
    expect(session.userLogin).toBe('jdoe');
  });

  it('stores a duplicate upload once, answers duplicate and announces it again', async () => {
    const { token } = await registerAndLogin('lap-2');
    const bytes = await uploadFile('lap-2', 1);
    expect((await upload(token, 1, bytes)).status).toBe(201);
    await nextEvent();
    const again = await upload(token, 1, bytes);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'duplicate', fileSeq: 1 });
    expect((await nextEvent()).data).toMatchObject({ client: 'lap-2', fileSeq: 1 });
    expect(await db.query('SELECT file_seq FROM sync_inbox_file WHERE client = $1', ['lap-2'])).toEqual([
      { file_seq: 1 },
    ]);
    expect(await store.list(store.inboxBucket, 'inbox/lap-2/')).toEqual([inboxKey('lap-2', 1)]);

    const other = await upload(token, 1, await uploadFile('lap-2', 1, { firstSeq: 1, count: 3 }));
    expect([other.status, await errorCode(other)]).toEqual([409, ErrorCode.FileSeqTaken]);
  });

  it('refuses a file written for another client and keeps nothing of it', async () => {
    const { token } = await registerAndLogin('lap-3');
    const res = await upload(token, 1, await uploadFile('lap-other', 1));
    expect(res.status).toBe(422);
    expect(await errorCode(res)).toBe(ErrorCode.DxWrongClient);
    expect(await db.query('SELECT 1 FROM sync_inbox_file WHERE client = $1', ['lap-3'])).toEqual([]);
    await waitFor(async () => (await store.list(store.inboxBucket, 'staging/lap-3/')).length === 0, {
      timeoutMs: 15_000,
      intervalMs: 50,
      description: 'the staged upload to be discarded',
    });
    expect(await store.list(store.inboxBucket, 'inbox/lap-3/')).toEqual([]);
    expect(await ch.get(inboxQueue, { noAck: true })).toBe(false);
  });

  it('refuses bytes that are not a DX file with the format error code', async () => {
    const { token } = await registerAndLogin('lap-4');
    const res = await upload(token, 1, Buffer.from('definitely not gzip'));
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; details?: { dxCode: string } } };
    expect(body.error.code).toBe(ErrorCode.DxInvalid);
    expect(body.error.details?.dxCode).toBeTruthy();
    const seqMismatch = await upload(token, 2, await uploadFile('lap-4', 3));
    expect([seqMismatch.status, await errorCode(seqMismatch)]).toEqual([422, ErrorCode.DxInvalid]);
    expect(await db.query('SELECT 1 FROM sync_inbox_file WHERE client = $1', ['lap-4'])).toEqual([]);
  });

  it('serves the admin views of clients and inboxes, and records a finished sync', async () => {
    const { token } = await registerAndLogin('lap-5');
    expect((await upload(token, 1, await uploadFile('lap-5', 1))).status).toBe(201);
    const inbox = (await (await admin('GET', '/admin/clients/lap-5/inbox')).json()) as InboxFileView[];
    expect(inbox.map((f) => [f.fileSeq, f.status])).toEqual([[1, 'received']]);
    const dl = await fetch(`${agentUrl}/v1/download`, { headers: { authorization: `Bearer ${token}` } });
    expect(await dl.json()).toEqual({ epoch: 0, files: [], extractPending: true });

    const close = await fetch(`${agentUrl}/v1/sessions/current`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ result: { ok: true, uploadedFiles: 1, downloadedFiles: 0 } }),
    });
    expect(close.status).toBe(204);
    const clients = (await (await admin('GET', '/admin/clients')).json()) as ClientView[];
    expect(clients.find((c) => c.name === 'lap-5')?.lastSyncResult).toEqual({
      ok: true,
      uploadedFiles: 1,
      downloadedFiles: 0,
    });
    const conflicts = await admin('GET', '/admin/conflicts?client=lap-5');
    expect([conflicts.status, await conflicts.json()]).toEqual([200, []]);
  });

  it('is administered with the sync-admin CLI', async () => {
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [join(defaultRepoRoot(), 'admin-cli', 'dist', 'cli.js'), ...args],
          {
            env: {
              PATH: process.env.PATH ?? '',
              SYNC_ADMIN_URL: adminUrl,
              SYNC_ADMIN_TOKEN: stack.adminToken,
            },
          },
          (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        );
      });
    const added = await cli('clients', 'add', 'lap-cli', '--user', 'mary', '--json');
    expect(added.code).toBe(0);
    expect((JSON.parse(added.stdout) as ClientWithSecret).secret).toBeTruthy();
    const listed = await cli('clients', 'list');
    expect(listed.stdout).toMatch(/lap-cli\s+mary\s+active/);
    const dup = await cli('clients', 'add', 'lap-cli', '--user', 'mary');
    // 3: refused by the admin API (see the README's sync-admin exit codes).
    expect(dup.code).toBe(3);
    expect(dup.stderr).toMatch(
      /^error: Client "lap-cli" already exists; [^\n]*\(CLIENT_EXISTS, correlation id [\w-]+\)\n$/,
    );
    const unreachable = await cli('--server', 'http://127.0.0.1:1', 'clients', 'list');
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toMatch(/^error: cannot reach the admin API at http:\/\/127\.0\.0\.1:1/);
  });
});
