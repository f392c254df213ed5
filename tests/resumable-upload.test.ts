/**
 * A large upload over a link that breaks half way: the agent sends the file in parts, the
 * connection is cut, and the next sync goes on from the last part the server holds.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { TcpProxy, waitFor } from '@outpost/test-support';
import { agent, agentJson } from './support/cli';
import { uploadFile } from './support/dx-files';
import { exec } from './support/laptops';
import { createWorld, type World } from './support/world';
import { listKeys } from './support/s3';

const PART_BYTES = 16 * 1024;
const ROWS = 1500;

interface Status {
  pendingTransactions: number;
  outboxFiles: number;
  awaitingConfirmation: number;
  waitingFor: string[];
}

/** One sample of a Prometheus text exposition, summed over the series that carry `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]] as const),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(match[3]);
  }
  return sum;
}

describe('resumable upload', () => {
  let world: World;
  let proxy: TcpProxy;

  beforeAll(async () => {
    world = await createWorld();
    const gateway = new URL(world.stack.gatewayUrl);
    proxy = await TcpProxy.start({ targetHost: gateway.hostname, targetPort: Number(gateway.port) });
  });
  afterAll(async () => {
    await proxy?.close();
    await world?.close();
  });

  const gatewayMetrics = async () => (await fetch(world.stack.endpoints['sync-gateway'].metrics)).text();
  const partKeys = (client: string) => listKeys(world.s3, world.inboxBucket, `parts/${client}/`);

  it('finishes a file cut half way on the next sync without sending the parts the server holds, and applies it once', async () => {
    const client = 'resume-laptop';
    const dir = await world.laptop(client, 'rita');
    // Random names keep the gzip-compressed file several parts long.
    await exec(
      dir,
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS})
       INSERT INTO account (name, owner_login) SELECT 'Resume ' || i || ' ' || hex(randomblob(48)), 'rita' FROM n`,
    );
    const env = { SYNC_AGENT_UPLOAD_PART_BYTES: String(PART_BYTES) };
    const viaProxy = ['sync', '--dir', dir, '--server', proxy.rewrite(world.stack.gatewayUrl)];

    // A slow link: the parts arrive one by one, and the link breaks after a few of them.
    proxy.slow(48 * 1024);
    const cutSync = agent(viaProxy, env);
    await waitFor(async () => (await partKeys(client)).length >= 3, {
      timeoutMs: 60_000,
      intervalMs: 50,
      description: 'three parts held by the server',
    });
    await proxy.cut();
    const cut = await cutSync;
    expect(cut.code).not.toBe(0);
    expect(cut.stderr + cut.stdout).toMatch(/cannot reach the sync server/);

    const outboxFiles = readdirSync(path.join(dir, 'outbox')).filter((f) => f.endsWith('.dx'));
    expect(outboxFiles).toHaveLength(1);
    const size = statSync(path.join(dir, 'outbox', outboxFiles[0])).size;
    const parts = Math.ceil(size / PART_BYTES);
    expect(parts).toBeGreaterThanOrEqual(6);
    // The gateway counts a part once the inbox-store answers, just after the object appears.
    const heldAfterCut = await waitFor(
      async () => {
        const held = (await partKeys(client)).length;
        return sample(await gatewayMetrics(), 'outpost_upload_parts_stored_total') === held
          ? held
          : undefined;
      },
      { timeoutMs: 10_000, description: 'the parts held and counted to agree' },
    );
    expect(heldAfterCut).toBeGreaterThanOrEqual(3);
    expect(heldAfterCut).toBeLessThan(parts);

    await proxy.restore();
    const resumed = await agentJson<{ uploaded: { files: number } }>(viaProxy, env);
    expect(resumed.uploaded.files).toBe(1);

    // Server side: every part kept once, and over both syncs no more part requests and bytes
    // than the file, the one part cut on the way, and the requests' headers.
    const done = await gatewayMetrics();
    expect(sample(done, 'outpost_upload_parts_stored_total')).toBe(parts);
    expect(sample(done, 'outpost_upload_part_bytes_total')).toBe(size);
    expect(sample(done, 'outpost_http_requests_total', { route: 'upload-part' })).toBeLessThanOrEqual(
      parts + 1,
    );
    const partBytesReceived = sample(done, 'outpost_bytes_received_total', { route: 'upload-part' });
    expect(partBytesReceived).toBeGreaterThanOrEqual(size);
    expect(partBytesReceived).toBeLessThan(size + PART_BYTES + (parts + 1) * 2048);
    expect(await partKeys(client)).toEqual([]);

    await world.applied(client, 1);
    const inbox = await world.db.query(`SELECT file_seq, size FROM sync_inbox_file WHERE client = $1`, [
      client,
    ]);
    expect(inbox.rows).toEqual([{ file_seq: 1, size: String(size) }]);
    const accounts = await world.db.query(
      `SELECT count(*)::int AS n FROM account WHERE name LIKE 'Resume %'`,
    );
    expect(accounts.rows[0].n).toBe(ROWS);

    // The confirmation of the upload is routed after it applies: it may take another sync.
    const status = await waitFor(
      async () => {
        await agentJson(['sync', '--dir', dir], env);
        const s = await agentJson<Status>(['status', '--dir', dir]);
        return s.awaitingConfirmation === 0 && s.waitingFor.length === 0 ? s : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 300, description: 'the laptop to wait for nothing' },
    );
    expect(status).toMatchObject({ pendingTransactions: 0, outboxFiles: 0 });
  });

  it('takes parts only where the held bytes end, and refuses and drops parts that do not make the announced file', async () => {
    const client = 'parts-laptop';
    const secret = await world.register(client, 'paul');
    const opened = await fetch(`${world.stack.gatewayUrl}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client, secret, agentVersion: 'test', formatVersion: 1 }),
    });
    const { token } = (await opened.json()) as { token: string };
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const part = (announced: string, offset: number, bytes: Buffer) =>
      fetch(`${world.stack.gatewayUrl}/v1/upload/1/parts/${offset}`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          'x-dx-sha256': announced,
        },
        body: bytes,
      });
    const complete = (announced: string, size: number) =>
      fetch(`${world.stack.gatewayUrl}/v1/upload/1/complete`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sha256: announced, size }),
      });
    const sendAll = async (announced: string, bytes: Buffer, partSize: number) => {
      for (let offset = 0; offset < bytes.length; offset += partSize) {
        const res = await part(announced, offset, bytes.subarray(offset, offset + partSize));
        expect(res.status).toBe(200);
      }
    };
    const file = await uploadFile(client, 1, { count: 400, valueLength: 40 });
    const other = await uploadFile(client, 1, { count: 400, valueLength: 40 });
    const partSize = Math.ceil(file.length / 4);

    const first = await part(sha(file), 0, file.subarray(0, partSize));
    expect(await first.json()).toEqual({ fileSeq: 1, sha256: sha(file), receivedBytes: partSize });
    for (const offset of [0, partSize + 1]) {
      const misplaced = await part(sha(file), offset, file.subarray(offset, offset + partSize));
      expect(misplaced.status).toBe(409);
      expect(await misplaced.json()).toMatchObject({
        error: { code: 'UPLOAD_OFFSET_MISMATCH', details: { receivedBytes: partSize } },
      });
    }
    const early = await complete(sha(file), file.length);
    expect(early.status).toBe(409);
    expect(await early.json()).toMatchObject({ error: { code: 'UPLOAD_OFFSET_MISMATCH' } });
    expect(await listKeys(world.s3, world.inboxBucket, `parts/${client}/`)).toHaveLength(1);

    // Bytes announced as another file: refused at completion, and the parts are dropped.
    await sendAll(sha(other), file, partSize);
    const forged = await complete(sha(other), file.length);
    expect(forged.status).toBe(422);
    expect(await forged.json()).toMatchObject({ error: { code: 'CHECKSUM_MISMATCH' } });
    expect(await listKeys(world.s3, world.inboxBucket, `parts/${client}/`)).toEqual([]);
    const none = await world.db.query(`SELECT 1 FROM sync_inbox_file WHERE client = $1`, [client]);
    expect(none.rowCount).toBe(0);

    // The true file: stored once; completing again is a duplicate, and nothing is left behind.
    await sendAll(sha(file), file, partSize);
    const stored = await complete(sha(file), file.length);
    expect(stored.status).toBe(201);
    expect(await stored.json()).toEqual({ status: 'stored', fileSeq: 1 });
    const again = await complete(sha(file), file.length);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'duplicate', fileSeq: 1 });
    const rows = await world.db.query(`SELECT sha256, size::int FROM sync_inbox_file WHERE client = $1`, [
      client,
    ]);
    expect(rows.rows).toEqual([{ sha256: sha(file), size: file.length }]);
    expect(await listKeys(world.s3, world.inboxBucket, `parts/${client}/`)).toEqual([]);
  });

  it('answers the part routes only within a session', async () => {
    const sha256 = 'ab'.repeat(32);
    const base = `${world.stack.gatewayUrl}/v1/upload/1`;
    const calls: Array<[string, RequestInit]> = [
      [`${base}/parts`, { headers: { 'x-dx-sha256': sha256 } }],
      [`${base}/parts/0`, { method: 'PUT', headers: { 'x-dx-sha256': sha256 }, body: Buffer.alloc(10) }],
      [
        `${base}/complete`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sha256, size: 10 }),
        },
      ],
    ];
    for (const [url, init] of calls) {
      const res = await fetch(url, init);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: 'SESSION_INVALID' } });
    }
  });
});
