/**
 * Resource limits (OWASP API4): brute force on session opens is slowed to a trickle and audited,
 * and an upload too big, too long, too many rows or too slow is cut with a specific error and
 * nothing of it kept; a held file sent again wakes the applier once, not once per request; JSON
 * bodies with duplicate or prototype keys are refused.
 */
import { ErrorCode, queueName, type AuthAuditView, type ClientWithSecret } from '@outpost/contracts';
import type { DxUploadTransaction } from '@outpost/dx-format';
import { QUEUE_OPTIONS } from '@outpost/server-kit';
import { ObjectStore } from '@outpost/storage';
import { startStack, waitFor, type Stack } from '@outpost/test-support';
import { connect as amqpConnect, type Channel, type ChannelModel } from 'amqplib';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { Client } from 'pg';
import { adminJson } from '../support/cli';
import { uploadFile } from '../support/dx-files';
import { RawLaptop, uploadFileBytes } from '../support/raw-laptop';
import { stackObjectStore } from '../support/s3';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const LIMITS = {
  SESSION_OPEN_LIMIT: '3',
  SESSION_OPEN_WINDOW_SECONDS: '600',
  UPLOAD_MAX_BYTES: String(64 * 1024),
  UPLOAD_MAX_FILE_ROWS: '50',
  UPLOAD_MAX_TXN_BYTES: '4096',
  UPLOAD_IDLE_TIMEOUT_MS: '1000',
};

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { error?: { code: string; message: string; details?: Record<string, unknown> } } & Record<
    string,
    unknown
  >;
}

describe('resource limits', () => {
  let stack: Stack;
  let db: Client;
  let store: ObjectStore;
  let amqp: ChannelModel;
  let channel: Channel;
  const announced = new Map<string, number>();

  /** An HTTP request from a chosen loopback address, so each case is its own source address. */
  const send = (
    url: string,
    opts: { method: string; headers?: Record<string, string>; body?: Buffer | string; from?: string },
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(
        url,
        { method: opts.method, headers: opts.headers, localAddress: opts.from },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: text ? JSON.parse(text) : {},
            });
          });
        },
      );
      req.on('error', reject);
      req.end(opts.body);
    });
  const openSession = (client: string, secret: string, from: string) =>
    send(`${stack.gatewayUrl}/v1/sessions`, {
      method: 'POST',
      from,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client, secret, agentVersion: 'test', formatVersion: 1 }),
    });
  const register = async (name: string): Promise<string> => {
    const res = await fetch(`${stack.adminUrl}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, userLogin: 'rita' }),
    });
    return ((await res.json()) as ClientWithSecret).secret;
  };
  const audit = async (client: string) =>
    (await (
      await fetch(`${stack.adminUrl}/admin/auth-audit?client=${client}`, {
        headers: { authorization: `Bearer ${stack.adminToken}` },
      })
    ).json()) as AuthAuditView[];
  const laptop = async (name: string) => {
    const raw = new RawLaptop(stack.gatewayUrl, name, await register(name));
    return { raw, token: (await raw.open()).token };
  };
  /** Nothing of the client's uploads is held: no inbox row, no inbox object, no staged object left. */
  const nothingKept = async (client: string) => {
    expect((await db.query('SELECT 1 FROM sync_inbox_file WHERE client = $1', [client])).rowCount).toBe(0);
    expect(await store.list(store.inboxBucket, `inbox/${client}/`)).toEqual([]);
    await waitFor(async () => (await store.list(store.inboxBucket, `staging/${client}/`)).length === 0, {
      timeoutMs: 10_000,
      description: `no staged upload of ${client} left`,
    });
  };
  const bigRow = (seq: number): DxUploadTransaction => {
    const id = randomUUID();
    // Random text does not compress: the file is as large on the wire as in memory.
    const row = { id, name: randomBytes(2100).toString('base64') };
    return { seq, at: new Date().toISOString(), user: 'rita', table: 'account', id, op: 'insert', row };
  };
  const smallRow = (seq: number): DxUploadTransaction => {
    const id = randomUUID();
    return {
      seq,
      at: new Date().toISOString(),
      user: 'rita',
      table: 'account',
      id,
      op: 'insert',
      row: { id },
    };
  };
  const put = (token: string, fileSeq: number, bytes: Buffer) =>
    send(`${stack.gatewayUrl}/v1/upload/${fileSeq}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'x-dx-sha256': sha(bytes) },
      body: bytes,
    });

  beforeAll(async () => {
    stack = await startStack({ services: ['client-registry', 'inbox-store', 'sync-gateway'], env: LIMITS });
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    store = stackObjectStore(stack);
    amqp = await amqpConnect(stack.env.AMQP_URL);
    channel = await amqp.createChannel();
    await channel.assertQueue(queueName(stack.queuePrefix, 'dxInbox'), QUEUE_OPTIONS);
  });

  afterAll(async () => {
    await amqp?.close();
    await db?.end();
    await stack?.stop();
  });

  describe('session opens', () => {
    it('refuses a name with 429 and Retry-After after too many failures, without asking the registry', async () => {
      const secret = await register('brute-target');
      for (const n of [11, 12, 13]) {
        const wrong = await openSession('brute-target', `guess-${n}`, `127.0.0.${n}`);
        expect([wrong.status, wrong.body.error?.code]).toEqual([401, ErrorCode.ClientAuthFailed]);
      }
      // The right secret from a fresh address: the registry would accept it, so a 429 proves it was not asked.
      const refused = await openSession('brute-target', secret, '127.0.0.14');
      expect([refused.status, refused.body.error?.code]).toEqual([429, ErrorCode.TooManyAttempts]);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(590);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(600);

      // What the administrator sees: `sync-admin auth-audit list --client brute-target --json`.
      const records = await adminJson<AuthAuditView[]>(
        ['auth-audit', 'list', '--client', 'brute-target'],
        stack,
      );
      expect(records.map((r) => `${r.outcome}:${r.code}`).sort()).toEqual([
        'failed:CLIENT_AUTH_FAILED',
        'failed:CLIENT_AUTH_FAILED',
        'failed:CLIENT_AUTH_FAILED',
        'refused:TOO_MANY_ATTEMPTS',
      ]);
      expect(records.find((r) => r.outcome === 'refused')?.sourceAddress).toMatch(/127\.0\.0\.14$/);
      const rows = await db.query(
        `SELECT outcome, source_address FROM sync_auth_audit WHERE client_name = 'brute-target' ORDER BY id`,
      );
      expect(
        rows.rows.map((r: { source_address: string }) => r.source_address.replace('::ffff:', '')),
      ).toEqual(['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14']);
    });

    it('refuses an address that tries many names, and only that address', async () => {
      const secret = await register('office-laptop');
      for (const n of [1, 2, 3]) {
        const wrong = await openSession(`no-such-laptop-${n}`, 'guess', '127.0.0.21');
        expect(wrong.status).toBe(401);
      }
      const refused = await openSession('office-laptop', secret, '127.0.0.21');
      expect([refused.status, refused.body.error?.code]).toEqual([429, ErrorCode.TooManyAttempts]);
      expect(refused.headers['retry-after']).toBeDefined();
      expect((await openSession('office-laptop', secret, '127.0.0.22')).status).toBe(201);
      expect((await audit('no-such-laptop-2')).map((r) => r.outcome)).toEqual(['failed']);
    });

    it("forgets a name's failures once it opens a session", async () => {
      const secret = await register('forgetful-laptop');
      for (const n of [31, 32])
        expect((await openSession('forgetful-laptop', 'typo', `127.0.0.${n}`)).status).toBe(401);
      expect((await openSession('forgetful-laptop', secret, '127.0.0.33')).status).toBe(201);
      for (const n of [34, 35])
        expect((await openSession('forgetful-laptop', 'typo', `127.0.0.${n}`)).status).toBe(401);
      // Four failures in the window, but only two since the success.
      expect((await openSession('forgetful-laptop', secret, '127.0.0.36')).status).toBe(201);
    });

    it('answers an unknown name exactly as a wrong secret', async () => {
      await register('known-laptop');
      const wrongSecret = await openSession('known-laptop', 'guess', '127.0.0.41');
      const unknownName = await openSession('ghost-laptop', 'guess', '127.0.0.42');
      const shape = (a: Answer, name: string) => ({
        status: a.status,
        code: a.body.error?.code,
        message: a.body.error?.message.replace(name, '<name>'),
        details: a.body.error?.details,
        retryAfter: a.headers['retry-after'],
      });
      expect(shape(wrongSecret, 'known-laptop')).toEqual(shape(unknownName, 'ghost-laptop'));
      expect(shape(wrongSecret, 'known-laptop').status).toBe(401);
      expect(shape(wrongSecret, 'known-laptop').code).toBe(ErrorCode.ClientAuthFailed);
    });
  });

  describe('uploads', () => {
    it('refuses a body whose Content-Length is over UPLOAD_MAX_BYTES before reading it', async () => {
      const { token } = await laptop('declares-huge');
      const answer = await new Promise<Answer>((resolve, reject) => {
        const req = request(`${stack.gatewayUrl}/v1/upload/1`, {
          method: 'PUT',
          headers: {
            authorization: `Bearer ${token}`,
            'x-dx-sha256': 'a'.repeat(64),
            'content-length': String(300 * 1024 * 1024),
          },
        });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: JSON.parse(Buffer.concat(chunks).toString()),
            }),
          );
        });
        req.on('error', reject);
        // Headers only: the answer must come without a byte of the body.
        req.flushHeaders();
      });
      expect([answer.status, answer.body.error?.code]).toEqual([413, ErrorCode.UploadTooLarge]);
      expect(answer.body.error?.message).toMatch(/UPLOAD_MAX_BYTES/);
      expect(answer.headers.connection).toBe('close');
      await nothingKept('declares-huge');
    });

    it('cuts a streamed body that grows over UPLOAD_MAX_BYTES and keeps nothing of it', async () => {
      const { token } = await laptop('streams-huge');
      const bytes = await uploadFileBytes(
        'streams-huge',
        1,
        Array.from({ length: 45 }, (_, i) => bigRow(i + 1)),
      );
      expect(bytes.length).toBeGreaterThan(80 * 1024);
      const answer = await new Promise<Answer>((resolve, reject) => {
        // No Content-Length: chunked, so only counting the bytes can find the size.
        const req = request(`${stack.gatewayUrl}/v1/upload/1`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'x-dx-sha256': sha(bytes) },
        });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: JSON.parse(Buffer.concat(chunks).toString()),
            }),
          );
        });
        // The gateway closes the connection while the rest is still being written.
        req.on('error', (err) => (answerSeen ? undefined : reject(err)));
        let answerSeen = false;
        req.on('response', () => (answerSeen = true));
        for (let at = 0; at < bytes.length; at += 8192) req.write(bytes.subarray(at, at + 8192));
        req.end();
      });
      expect([answer.status, answer.body.error?.code]).toEqual([413, ErrorCode.UploadTooLarge]);
      await nothingKept('streams-huge');
      expect(await inboxMessagesOf('streams-huge')).toBe(0);
    });

    it('refuses a file with more transactions than UPLOAD_MAX_FILE_ROWS, saying which limit', async () => {
      const { token } = await laptop('many-rows');
      const bytes = await uploadFileBytes(
        'many-rows',
        1,
        Array.from({ length: 51 }, (_, i) => smallRow(i + 1)),
      );
      const answer = await put(token, 1, bytes);
      expect([answer.status, answer.body.error?.code]).toEqual([422, ErrorCode.UploadLimitExceeded]);
      expect(answer.body.error?.details).toEqual({ limit: 'UPLOAD_MAX_FILE_ROWS', max: 50, count: 51 });
      expect(answer.body.error?.message).toMatch(/smaller files/);
      await nothingKept('many-rows');
    });

    it('refuses a transaction longer than UPLOAD_MAX_TXN_BYTES, naming the transaction', async () => {
      const { token } = await laptop('long-row');
      const id = randomUUID();
      const long: DxUploadTransaction = {
        seq: 3,
        at: new Date().toISOString(),
        user: 'rita',
        table: 'account',
        id,
        op: 'insert',
        row: { id, name: 'x'.repeat(5000) },
      };
      const bytes = await uploadFileBytes('long-row', 1, [smallRow(1), smallRow(2), long]);
      const answer = await put(token, 1, bytes);
      expect([answer.status, answer.body.error?.code]).toEqual([422, ErrorCode.UploadLimitExceeded]);
      expect(answer.body.error?.details).toEqual({ limit: 'UPLOAD_MAX_TXN_BYTES', max: 4096, txIndex: 2 });
      await nothingKept('long-row');
    });

    it('cuts a body that stalls for UPLOAD_IDLE_TIMEOUT_MS with UPLOAD_STALLED and keeps nothing', async () => {
      const { token } = await laptop('slow-laptop');
      const bytes = await uploadFile('slow-laptop', 1, { count: 20 });
      const { port } = new URL(stack.gatewayUrl);
      const started = Date.now();
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = tcpConnect(Number(port), '127.0.0.1', () => {
          socket.write(
            `PUT /v1/upload/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
              `x-dx-sha256: ${sha(bytes)}\r\nContent-Length: ${bytes.length}\r\n\r\n`,
          );
          // Part of the body, then nothing more.
          socket.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
        });
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      const elapsed = Date.now() - started;
      expect(raw).toMatch(/^HTTP\/1\.1 408 /);
      expect(raw).toMatch(/connection: close/i);
      const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Answer['body'];
      expect(body.error?.code).toBe(ErrorCode.UploadStalled);
      expect(body.error?.message).toMatch(/send the file again/);
      expect(elapsed).toBeGreaterThanOrEqual(1000);
      expect(elapsed).toBeLessThan(10_000);
      await nothingKept('slow-laptop');
    });

    it('announces a held file again once, however often it is sent again', async () => {
      const { token } = await laptop('repeat-sender');
      const bytes = await uploadFile('repeat-sender', 1);
      expect((await put(token, 1, bytes)).status).toBe(201);
      expect(await inboxMessagesOf('repeat-sender')).toBe(1);
      for (let i = 0; i < 4; i++) {
        const again = await put(token, 1, bytes);
        expect([again.status, again.body.status]).toEqual([200, 'duplicate']);
      }
      expect(await inboxMessagesOf('repeat-sender')).toBe(2);
      const row = await db.query(
        `SELECT reannounced_at IS NOT NULL AS once FROM sync_inbox_file WHERE client = 'repeat-sender'`,
      );
      expect(row.rows).toEqual([{ once: true }]);
    });

    it('announces a file stored but never announced (a crash before publish) at its first re-send', async () => {
      const { token } = await laptop('crashed-before-publish');
      const bytes = await uploadFile('crashed-before-publish', 1);
      // Committed straight into the inbox-store, as if the gateway died before publishing.
      const stored = await fetch(`${stack.inboxStoreUrl}/internal/inbox/crashed-before-publish/1`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${stack.internalToken}`,
          'x-dx-sha256': sha(bytes),
          'x-dx-count': '2',
          'x-dx-first-seq': '1',
          'x-dx-last-seq': '2',
        },
        body: bytes,
      });
      expect(stored.status).toBe(201);
      expect(await inboxMessagesOf('crashed-before-publish')).toBe(0);
      expect((await put(token, 1, bytes)).status).toBe(200);
      expect(await inboxMessagesOf('crashed-before-publish')).toBe(1);
      expect((await put(token, 1, bytes)).status).toBe(200);
      expect(await inboxMessagesOf('crashed-before-publish')).toBe(1);
    });
  });

  describe('file numbers', () => {
    it('refuses a file that skips a number with FILE_SEQ_GAP, and keeps nothing of it', async () => {
      const { raw, token } = await laptop('number-skipper');
      expect((await put(token, 1, await uploadFileBytes(raw.client, 1, [smallRow(1)]))).status).toBe(201);
      const skipped = await put(token, 3, await uploadFileBytes(raw.client, 3, [smallRow(2)]));
      expect([skipped.status, skipped.body.error?.code]).toEqual([409, ErrorCode.FileSeqGap]);
      expect(skipped.body.error?.message).toMatch(/holds files up to 1; send file 2 first/);
      const files = await db.query('SELECT file_seq FROM sync_inbox_file WHERE client = $1', [raw.client]);
      expect(files.rows).toEqual([{ file_seq: 1 }]);
      expect(await store.list(store.inboxBucket, `inbox/${raw.client}/`)).toHaveLength(1);
      await waitFor(
        async () => (await store.list(store.inboxBucket, `staging/${raw.client}/`)).length === 0,
        {
          timeoutMs: 10_000,
          description: `no staged upload of ${raw.client} left`,
        },
      );
    });

    it('keeps one of two different files sent in parallel under one number, and refuses the other', async () => {
      const { raw, token } = await laptop('parallel-sender');
      const first = await uploadFileBytes(raw.client, 1, [smallRow(1)]);
      const second = await uploadFileBytes(raw.client, 1, [smallRow(1)]);
      const answers = await Promise.all([put(token, 1, first), put(token, 1, second)]);
      const codes = answers.map((a) => `${a.status}:${a.body.error?.code ?? a.body.status}`).sort();
      expect(codes).toEqual(['201:stored', `409:${ErrorCode.FileSeqTaken}`]);
      const kept = answers[0].status === 201 ? first : second;
      const rows = await db.query('SELECT sha256 FROM sync_inbox_file WHERE client = $1', [raw.client]);
      expect(rows.rows).toEqual([{ sha256: sha(kept) }]);
      expect(await inboxMessagesOf(raw.client)).toBe(1);
    });
  });

  describe('JSON bodies', () => {
    const rawOpen = (body: string) =>
      send(`${stack.gatewayUrl}/v1/sessions`, {
        method: 'POST',
        from: '127.0.0.51',
        headers: { 'content-type': 'application/json' },
        body,
      });

    it('refuses a body with a key twice', async () => {
      const secret = await register('twice-keyed');
      const answer = await rawOpen(
        `{"client":"twice-keyed","secret":"${secret}","secret":"other","agentVersion":"test","formatVersion":1}`,
      );
      expect([answer.status, answer.body.error?.code]).toEqual([400, ErrorCode.ValidationFailed]);
      expect(answer.body.error?.message).toMatch(/the key "secret" appears twice in one object/);
    });

    it('answers a body that is not JSON with 400, not a server error', async () => {
      const answer = await rawOpen('{"client":');
      expect([answer.status, answer.body.error?.code]).toEqual([400, ErrorCode.ValidationFailed]);
      expect(answer.body.error?.message).not.toMatch(/Refused JSON body/);
    });

    it.each(['__proto__', 'constructor'])('refuses a body with a %s key', async (key) => {
      const secret = await register(`proto-${key.replace(/_/g, '')}`);
      const answer = await rawOpen(
        `{"client":"proto-${key.replace(/_/g, '')}","secret":"${secret}","agentVersion":"test","formatVersion":1,"${key}":{"isAdmin":true}}`,
      );
      expect([answer.status, answer.body.error?.code]).toEqual([400, ErrorCode.ValidationFailed]);
      expect(answer.body.error?.message).toContain(`the key "${key}" is not allowed in a request body`);
    });
  });

  /**
   * dx.file.received events published for this client so far. No applier runs here, so they stay
   * on its queue; publishing is confirmed before the gateway answers, so every event is there.
   */
  async function inboxMessagesOf(client: string): Promise<number> {
    for (;;) {
      const msg = await channel.get(queueName(stack.queuePrefix, 'dxInbox'), { noAck: true });
      if (msg === false) break;
      const data = (JSON.parse(msg.content.toString()) as { data: { client: string } }).data;
      announced.set(data.client, (announced.get(data.client) ?? 0) + 1);
    }
    return announced.get(client) ?? 0;
  }
});
