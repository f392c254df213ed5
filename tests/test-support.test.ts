import { connect } from 'amqplib';
import { Client as MinioClient } from 'minio';
import { Client as PgClient } from 'pg';
import {
  createTestDatabase,
  getServices,
  postgresAnswers,
  rabbitMqAnswers,
  startStack,
  type TestServices,
  uniquePrefix,
  waitFor,
} from '@outpost/test-support';

/*
 * With no variables at all, Postgres and RabbitMQ on their default loopback ports are used before
 * any container. CI and this machine run both there, so the environment-free plan must find them.
 */
describe('test services with no environment', () => {
  it('finds Postgres and RabbitMQ on their default loopback ports and says so', async () => {
    const found = await getServices({
      env: { S3_ENDPOINT: 'http://127.0.0.1:9', S3_ACCESS_KEY: 'k', S3_SECRET_KEY: 's' },
    });
    try {
      expect(found.sources).toEqual({ postgres: 'local', rabbitmq: 'local', s3: 'env' });
      expect(found.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/test');
      expect(found.amqpUrl).toBe('amqp://guest:guest@127.0.0.1:5672');
      expect(found.describe()).toContain(
        'postgres from local (127.0.0.1:5432), rabbitmq from local (127.0.0.1:5672)',
      );
      const client = new PgClient({ connectionString: found.databaseUrl });
      await client.connect();
      const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
      await client.end();
      expect(rows).toEqual([{ db: 'test' }]);
    } finally {
      await found.stop();
    }
  });

  it('does not count a port where nothing listens', async () => {
    await expect(postgresAnswers('postgres://postgres@127.0.0.1:9/test', 2_000)).resolves.toBe(false);
    await expect(rabbitMqAnswers('amqp://guest:guest@127.0.0.1:9', 2_000)).resolves.toBe(false);
  });
});

/** Proves the services handed to tests are real and reachable, whatever provided them. */
describe('test services', () => {
  let services: TestServices;

  beforeAll(async () => {
    services = await getServices();
  });
  afterAll(async () => {
    await services.stop();
  });

  it('are the ones the global setup exported', () => {
    expect(services.sources).toEqual({ postgres: 'env', rabbitmq: 'env', s3: 'env' });
    expect(services.databaseUrl).toBe(process.env.DATABASE_URL);
  });

  it('Postgres: a fresh database can be created, written, read and dropped', async () => {
    const database = await createTestDatabase('test_support');
    expect(new URL(database.url).pathname).toBe(`/${database.name}`);
    const client = new PgClient({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('CREATE TABLE probe (id int PRIMARY KEY, note text)');
      await client.query("INSERT INTO probe VALUES (1, 'reachable')");
      const { rows } = await client.query<{ db: string; note: string }>(
        'SELECT current_database() AS db, note FROM probe',
      );
      expect(rows).toEqual([{ db: database.name, note: 'reachable' }]);
    } finally {
      await client.end();
    }
    await database.drop();

    const admin = new PgClient({ connectionString: services.databaseUrl });
    await admin.connect();
    try {
      const left = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database.name]);
      expect(left.rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  });

  it('RabbitMQ: a message published to a declared queue is consumed', async () => {
    const queue = `${uniquePrefix('test-support')}.probe`;
    const connection = await connect(services.amqpUrl);
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue(queue, { autoDelete: true });
      const received: string[] = [];
      await channel.consume(queue, (message) => {
        if (!message) return;
        received.push(message.content.toString('utf8'));
        channel.ack(message);
      });
      channel.sendToQueue(queue, Buffer.from('hello over amqp'));
      await waitFor(() => received.length > 0, { timeoutMs: 5_000, description: `a message on ${queue}` });
      expect(received).toEqual(['hello over amqp']);
      await channel.deleteQueue(queue);
    } finally {
      await connection.close();
    }
  });

  it('S3: an object put into a new bucket reads back byte for byte', async () => {
    const endpoint = new URL(services.s3.endpoint);
    const s3 = new MinioClient({
      endPoint: endpoint.hostname,
      port: Number(endpoint.port) || (endpoint.protocol === 'https:' ? 443 : 80),
      useSSL: endpoint.protocol === 'https:',
      accessKey: services.s3.accessKey,
      secretKey: services.s3.secretKey,
      region: services.s3.region,
      pathStyle: true,
    });
    const bucket = `${uniquePrefix('test-support')}-inbox`;
    const body = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    await s3.makeBucket(bucket, services.s3.region);
    try {
      await s3.putObject(bucket, 'inbox/probe/000000000001.dx', body, body.length);
      const stream = await s3.getObject(bucket, 'inbox/probe/000000000001.dx');
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(body)).toBe(true);
    } finally {
      await s3.removeObject(bucket, 'inbox/probe/000000000001.dx');
      await s3.removeBucket(bucket);
    }
  });

  it('startStack runs a real service in its own database and queues, and removes both on stop', async () => {
    const stack = await startStack({ services: ['client-registry'] });
    const database = decodeURIComponent(new URL(stack.databaseUrl).pathname.slice(1));
    const rpcQueue = `${stack.queuePrefix}.registry.rpc`;
    const queueExists = async () => {
      const connection = await connect(services.amqpUrl);
      try {
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        return await channel.checkQueue(rpcQueue).then(
          () => true,
          () => false,
        );
      } finally {
        await connection.close();
      }
    };
    const databaseExists = async () => {
      const admin = new PgClient({ connectionString: services.databaseUrl });
      await admin.connect();
      try {
        return (
          ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount ?? 0) > 0
        );
      } finally {
        await admin.end();
      }
    };
    try {
      expect(stack.isRunning('client-registry')).toBe(true);
      expect(stack.logs('client-registry')).toContain('client-registry ready');
      expect(await databaseExists()).toBe(true);
      expect(await queueExists()).toBe(true);
    } finally {
      await stack.stop();
    }
    expect(stack.isRunning('client-registry')).toBe(false);
    expect(await databaseExists()).toBe(false);
    expect(await queueExists()).toBe(false);
  });
});
