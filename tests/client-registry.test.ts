import type { ClientProxy } from '@nestjs/microservices';
import { ErrorCode, patterns, queueName, type ClientView, type ClientWithSecret } from '@outpost/contracts';
import { callRpc, DomainError, rmqClient, rpcCredentials } from '@outpost/server-kit';
import { startStack, uniquePrefix, waitFor, type Stack } from '@outpost/test-support';
import { connect, type ChannelModel } from 'amqplib';
import { sqlClient, type Sql } from './support/database';

describe('client-registry over RabbitMQ', () => {
  let stack: Stack;
  let db: Sql;
  let client: ClientProxy;
  let amqp: ChannelModel;
  const asAdmin = () => rpcCredentials(stack.internalToken, stack.adminToken);

  const call = <T>(pattern: string, data: object, headers = asAdmin()) =>
    callRpc<T>(client, pattern, data, uniquePrefix('corr'), { headers });
  const failure = async (pattern: string, data: object, headers = asAdmin()): Promise<DomainError> => {
    try {
      await call(pattern, data, headers);
    } catch (err) {
      return err as DomainError;
    }
    throw new Error(`${pattern} succeeded but should have failed`);
  };

  beforeAll(async () => {
    stack = await startStack({ services: ['client-registry'] });
    db = sqlClient(stack.databaseUrl);
    client = rmqClient(stack.env.AMQP_URL, stack.queuePrefix, 'registryRpc');
    amqp = await connect(stack.env.AMQP_URL);
  });

  afterAll(async () => {
    await client?.close();
    await amqp?.close();
    await db?.end();
    // Stops the registry, deletes its queues and drops its database.
    await stack?.stop();
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
    const kickQueue = queueName(stack.queuePrefix, 'routerKick');
    await ch.assertQueue(kickQueue, { durable: true });
    await ch.purgeQueue(kickQueue);
    const view = await call<ClientView>(patterns.registryReextract, { name: 'laptop-e' });
    expect(view.extractRequestedAt).not.toBeNull();
    const msg = await waitFor(async () => (await ch.get(kickQueue, { noAck: true })) || undefined, {
      timeoutMs: 15_000,
      intervalMs: 50,
      description: 'a router.kick message',
    });
    expect(msg.properties.deliveryMode).toBe(2);
    expect(JSON.parse(msg.content.toString())).toEqual({
      pattern: 'router.kick',
      data: { reason: 'reextract', client: 'laptop-e' },
    });
    await ch.close();
  });
});
