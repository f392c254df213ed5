import { credential, port, prefix, secret, str, url } from './config';

/** Variables shared by several services, with the defaults of docs/architecture.md. */
export const sharedVars = {
  databaseUrl: url('DATABASE_URL', {
    description: 'the Postgres URL, e.g. postgres://user@host:5432/outpost',
    default: 'postgres://postgres@127.0.0.1:5432/outpost',
    protocols: ['postgres:', 'postgresql:'],
    checkPassword: true,
  }),
  amqpUrl: url('AMQP_URL', {
    description: 'the RabbitMQ URL, e.g. amqp://guest:guest@host:5672',
    default: 'amqp://guest:guest@127.0.0.1:5672',
    protocols: ['amqp:', 'amqps:'],
    checkPassword: true,
  }),
  queuePrefix: prefix('QUEUE_PREFIX', 'outpost', 'the prefix of every queue name'),
  s3Endpoint: url('S3_ENDPOINT', {
    description: 'the S3/MinIO endpoint URL, e.g. http://host:9000',
    default: 'http://127.0.0.1:9000',
    protocols: ['http:', 'https:'],
  }),
  s3AccessKey: str('S3_ACCESS_KEY', { description: 'the S3 access key' }),
  s3SecretKey: credential('S3_SECRET_KEY', { description: 'the S3 secret key' }),
  s3Region: str('S3_REGION', { description: 'the S3 region', default: 'us-east-1' }),
  s3BucketPrefix: prefix('S3_BUCKET_PREFIX', 'outpost', 'the prefix of the bucket names'),
  gatewayPort: port('GATEWAY_PORT', 8080, 'the agent API port'),
  adminPort: port('ADMIN_PORT', 8081, 'the admin API port'),
  adminToken: secret('ADMIN_TOKEN', {
    description: "the administrators' bearer token, at least 32 random characters",
  }),
  sessionKey: secret('SESSION_KEY', {
    description:
      'the key that signs session tokens, at least 32 random characters, shared by every gateway replica',
  }),
  internalToken: secret('INTERNAL_TOKEN', {
    description: 'the service token internal endpoints require, at least 32 random characters',
  }),
  inboxStoreUrl: url('INBOX_STORE_URL', {
    description: 'the inbox-store internal URL',
    default: 'http://127.0.0.1:8090',
    protocols: ['http:', 'https:'],
  }),
  inboxStorePort: port('INBOX_STORE_PORT', 8090, 'the inbox-store internal HTTP port'),
} as const;

/** The S3 variables as one group, for services that touch object storage. */
export const s3Vars = {
  s3Endpoint: sharedVars.s3Endpoint,
  s3AccessKey: sharedVars.s3AccessKey,
  s3SecretKey: sharedVars.s3SecretKey,
  s3Region: sharedVars.s3Region,
  s3BucketPrefix: sharedVars.s3BucketPrefix,
} as const;

export function healthPortVar(defaultPort: number) {
  return port('HEALTH_PORT', defaultPort, 'the /healthz port');
}
