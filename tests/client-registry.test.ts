import type { ClientProxy } from '@nestjs/microservices';
import { ErrorCode, patterns, queueName, type ClientView, type ClientWithSecret } from '@outpost/contracts';
import { callRpc, DomainError, rmqClient, rpcCredentials } from '@outpost/server-kit';
import { generateStackSecrets } from '@outpost/test-support';
import { connect, type ChannelModel } from 'amqplib';
import {
  baseUrls,
  createTestDatabase,
  launchService,
  pollUntil,
  uniqueName,
  type LaunchedService,
  type TestDatabase,
} from './support/front-services';

describe('client-registry over RabbitMQ', () => {
  const prefix = uniqueName('reg');
  let db: TestDatabase;
  let registry: LaunchedService;
  let client: ClientProxy;
  let amqp: ChannelModel;
  const secrets = generateStackSecrets();
  const asAdmin = rpcCredentials(secrets.internalToken, secrets.adminToken);

  const call = <T>(pattern: string, data: object, headers = asAdmin) =>
    callRpc<T>(client, pattern, data, uniqueName('corr'), { headers });
  const failure = async (pattern: string, data: object, headers = asAdmin): Promise<DomainError> => {
    try {
      await call(pattern, data, headers);
    } catch (err) {
      return err as DomainError;
    }
    throw new Error(`${pattern} succeeded but should have failed`);
  };

  beforeAll(async () => {
    db = await createTestDatabase('registry');
    const { amqpUrl } = baseUrls();
    registry = await launchService('client-registry', {
      DATABASE_URL: db.url,
      AMQP_URL: amqpUrl,
      QUEUE_PREFIX: prefix,
      HEALTH_PORT: '0',
      INTERNAL_TOKEN: secrets.internalToken,
      ADMIN_TOKEN: secrets.adminToken,
    });
    client = rmqClient(amqpUrl, prefix, 'registryRpc');
    amqp = await connect(amqpUrl);
  });

  afterAll(async () => {
    await client?.close();
    await registry?.stop();
    const ch = await amqp.createChannel();
    for (const key of ['registryRpc', 'routerKick'] as const) await ch.deleteQueue(queueName(prefix, key));
    await amqp.close();
    await db?.drop();
  });

  it('adds a client, stores only a hash of its secret, and lists it', async () => {
    const added = await call<ClientWithSecret>(patterns.registryAdd, { name: 'laptop-a', userLogin: 'jdoe' });
    expect(added.client).toMatchObject({
      name: 'laptop-a',
      userLogin: 'jdoe',
      status: 'active',
      lastSyncAt: null,
    });
    expect(added.secret.length).toBeGreaterThanOrEqual(32);
    const [row] = await db.query<{ secret_hash: string }>(
      'SELECT secret_hash FROM sync_client WHERE name = $1',
      ['laptop-a'],
    );
    expect(row.secret_hash).toMatch(/^scrypt\$/);
    expect(row.secret_hash).not.toContain(added.secret);
    const list = await call<ClientView[]>(patterns.registryList, {});
    expect(list.map((c) => c.name)).toContain('laptop-a');
  });

  it('refuses a duplicate name and an invalid name', async () => {
    await call(patterns.registryAdd, { name: 'laptop-dup', userLogin: 'u' });
    expect((await failure(patterns.registryAdd, { name: 'laptop-dup', userLogin: 'u' })).code).toBe(
      ErrorCode.ClientExists,
    );
    expect((await failure(patterns.registryAdd, { name: '../x', userLogin: 'u' })).code).toBe(
      ErrorCode.ClientNameInvalid,
    );
  });

  it('authenticates, with one answer for an unknown name and a wrong secret, and tells deactivated apart', async () => {
    const { secret } = await call<ClientWithSecret>(patterns.registryAdd, {
      name: 'laptop-b',
      userLogin: 'asmith',
    });
    const ok = await call<ClientView>(patterns.registryAuthenticate, { name: 'laptop-b', secret });
    expect(ok.name).toBe('laptop-b');

    const unknown = await failure(patterns.registryAuthenticate, { name: 'nobody', secret });
    expect(unknown).toBeInstanceOf(DomainError);
    expect(unknown.code).toBe(ErrorCode.ClientAuthFailed);
    expect(unknown.correlationId).toMatch(/^corr-/);
    const wrong = await failure(patterns.registryAuthenticate, { name: 'laptop-b', secret: 'wrong' });
    expect([wrong.code, wrong.message.replace('laptop-b', 'X')]).toEqual([
      unknown.code,
      unknown.message.replace('nobody', 'X'),
    ]);

    await call(patterns.registryDeactivate, { name: 'laptop-b' });
    expect((await failure(patterns.registryAuthenticate, { name: 'laptop-b', secret })).code).toBe(
      ErrorCode.ClientDeactivated,
    );
  });

  it('rotates a secret: the old one stops working, the new one works', async () => {
    const { secret: oldSecret } = await call<ClientWithSecret>(patterns.registryAdd, {
      name: 'laptop-c',
      userLogin: 'u',
    });
    const { secret: newSecret } = await call<{ secret: string }>(patterns.registryRotateSecret, {
      name: 'laptop-c',
    });
    expect(newSecret).not.toBe(oldSecret);
    expect((await failure(patterns.registryAuthenticate, { name: 'laptop-c', secret: oldSecret })).code).toBe(
      ErrorCode.ClientAuthFailed,
    );
    await expect(
      call(patterns.registryAuthenticate, { name: 'laptop-c', secret: newSecret }),
    ).resolves.toMatchObject({ name: 'laptop-c' });
    expect((await failure(patterns.registryRotateSecret, { name: 'ghost' })).code).toBe(
      ErrorCode.ClientUnknown,
    );
  });

  it('records a sync result', async () => {
    await call(patterns.registryAdd, { name: 'laptop-d', userLogin: 'u' });
    const result = { ok: true, uploadedFiles: 2, downloadedFiles: 1 };
    const view = await call<ClientView>(patterns.registryRecordSync, { name: 'laptop-d', result });
    expect(view.lastSyncResult).toEqual(result);
    expect(view.lastSyncAt).not.toBeNull();
  });

  it('records a re-extract request and kicks the router', async () => {
    await call(patterns.registryAdd, { name: 'laptop-e', userLogin: 'u' });
    const ch = await amqp.createChannel();
    const kickQueue = queueName(prefix, 'routerKick');
    await ch.assertQueue(kickQueue, { durable: true });
    await ch.purgeQueue(kickQueue);
    const view = await call<ClientView>(patterns.registryReextract, { name: 'laptop-e' });
    expect(view.extractRequestedAt).not.toBeNull();
    const msg = await pollUntil(
      async () => (await ch.get(kickQueue, { noAck: true })) || undefined,
      'a router.kick message',
    );
    expect(msg.properties.deliveryMode).toBe(2);
    expect(JSON.parse(msg.content.toString())).toEqual({
      pattern: 'router.kick',
      data: { reason: 'reextract', client: 'laptop-e' },
    });
    await ch.close();
  });
});
