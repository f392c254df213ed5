/**
 * Revocation is immediate: after `deactivate` or `rotate-secret`, every request of a session opened
 * before is refused within a few seconds, on every gateway replica, and nothing it sends is kept.
 */
import { ErrorCode, type ClientWithSecret, type OpenSessionResponse } from '@outpost/contracts';
import { ObjectStore } from '@outpost/storage';
import { startStack, waitFor, type Stack } from '@outpost/test-support';
import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { uploadFile } from '../support/dx-files';
import { stackObjectStore } from '../support/s3';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('revocation', () => {
  let stack: Stack;
  let gateways: string[];
  let db: Client;
  let store: ObjectStore;

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${stack.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const openSession = (gateway: string, client: string, secret: string) =>
    fetch(`${gateway}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client, secret, agentVersion: 'test', formatVersion: 1 }),
    });
  const listDownloads = (gateway: string, token: string) =>
    fetch(`${gateway}/v1/download`, { headers: { authorization: `Bearer ${token}` } });
  const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  async function register(name: string): Promise<{ secret: string; token: string }> {
    const { secret } = (await (
      await admin('POST', '/admin/clients', { name, userLogin: 'rita' })
    ).json()) as ClientWithSecret;
    const session = (await (await openSession(gateways[0], name, secret)).json()) as OpenSessionResponse;
    return { secret, token: session.token };
  }

  /** Polls every gateway until it refuses the token with SESSION_REVOKED. */
  async function refusedEverywhere(token: string): Promise<void> {
    for (const gateway of gateways) {
      await waitFor(
        async () => {
          const res = await listDownloads(gateway, token);
          return res.status === 401 && (await errorCode(res)) === ErrorCode.SessionRevoked;
        },
        { timeoutMs: 10_000, intervalMs: 100, description: `${gateway} to refuse the revoked session` },
      );
    }
  }

  async function nothingStored(client: string): Promise<void> {
    expect((await db.query('SELECT 1 FROM sync_inbox_file WHERE client = $1', [client])).rowCount).toBe(0);
    expect(await store.list(store.inboxBucket, `inbox/${client}/`)).toEqual([]);
    expect(await store.list(store.inboxBucket, `staging/${client}/`)).toEqual([]);
  }

  beforeAll(async () => {
    stack = await startStack({ services: ['client-registry', 'inbox-store', 'sync-gateway'] });
    // A second replica with the same configuration, as a scaled-out deployment runs it.
    const second = await stack.startReplica('sync-gateway');
    gateways = [stack.gatewayUrl, second.url];
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    store = stackObjectStore(stack);
  });

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  it('refuses every request of a session opened before the client was deactivated, on every replica', async () => {
    const { token } = await register('stolen-laptop');
    for (const gateway of gateways) expect((await listDownloads(gateway, token)).status).toBe(200);

    expect((await admin('POST', '/admin/clients/stolen-laptop/deactivate')).status).toBe(201);
    await refusedEverywhere(token);

    const bytes = await uploadFile('stolen-laptop', 1);
    for (const gateway of gateways) {
      const put = await fetch(`${gateway}/v1/upload/1`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'x-dx-sha256': sha(bytes) },
        body: bytes,
      });
      expect([put.status, await errorCode(put)]).toEqual([401, ErrorCode.SessionRevoked]);
    }
    await nothingStored('stolen-laptop');
  });

  it('refuses the sessions opened with a secret that was rotated since, and serves the new secret', async () => {
    const { secret: oldSecret, token } = await register('rotated-laptop');
    for (const gateway of gateways) expect((await listDownloads(gateway, token)).status).toBe(200);

    const rotated = (await (
      await admin('POST', '/admin/clients/rotated-laptop/rotate-secret')
    ).json()) as ClientWithSecret;
    await refusedEverywhere(token);

    const bytes = await uploadFile('rotated-laptop', 1);
    const put = await fetch(`${gateways[1]}/v1/upload/1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'x-dx-sha256': sha(bytes) },
      body: bytes,
    });
    expect([put.status, await errorCode(put)]).toEqual([401, ErrorCode.SessionRevoked]);
    await nothingStored('rotated-laptop');

    const withOld = await openSession(gateways[1], 'rotated-laptop', oldSecret);
    expect([withOld.status, await errorCode(withOld)]).toEqual([401, ErrorCode.ClientAuthFailed]);
    const fresh = (await (
      await openSession(gateways[1], 'rotated-laptop', rotated.secret)
    ).json()) as OpenSessionResponse;
    for (const gateway of gateways) expect((await listDownloads(gateway, fresh.token)).status).toBe(200);
  });
});
