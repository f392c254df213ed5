import { isContainerRuntimeReachable } from './container-runtime';
import { TestSupportError, TestSupportErrorCode } from './errors';
import { probeLocalServices } from './local-services';
import { startS3rver } from './s3rver-server';
import {
  BACKING_SERVICES,
  type BackingService,
  LOCAL_AMQP_URL,
  LOCAL_DATABASE_URL,
  NO_LOCAL_SERVICES,
  needsContainerRuntime,
  planProblems,
  planServices,
  type ServicePlan,
  type ServiceSource,
} from './service-plan';

export const POSTGRES_IMAGE = 'postgres:16-alpine';
export const RABBITMQ_IMAGE = 'rabbitmq:3.13-management-alpine';
export const MINIO_IMAGE = 'minio/minio:RELEASE.2025-04-22T22-12-26Z';
export const DEFAULT_S3_REGION = 'us-east-1';

export interface S3Service {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

export interface TestServices {
  databaseUrl: string;
  amqpUrl: string;
  s3: S3Service;
  /** Where each service came from. */
  sources: Record<BackingService, ServiceSource>;
  /** The services as the environment variables every service and test reads. */
  env: Record<string, string>;
  /** One line saying where each service came from, without credentials. */
  describe(): string;
  /** Stops what this call started (containers, s3rver); services from the environment are left alone. */
  stop(): Promise<void>;
}

export interface GetServicesOptions {
  /** Where to read DATABASE_URL, AMQP_URL, S3_*; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** How long to wait for a container runtime to answer; default 5 s. */
  runtimeProbeTimeoutMs?: number;
  /** Whether to try Postgres and RabbitMQ on their default loopback ports; default true. */
  probeLocal?: boolean;
}

type Stopper = () => Promise<void>;

/**
 * Postgres, RabbitMQ and S3 for tests: from DATABASE_URL, AMQP_URL and S3_ENDPOINT/S3_ACCESS_KEY/
 * S3_SECRET_KEY when set, otherwise (Postgres, RabbitMQ) the servers on their default loopback
 * ports when they answer, otherwise started with testcontainers when a Docker engine is reachable,
 * otherwise (S3 only) an in-process s3rver. Fails listing every service it could not provide.
 */
export async function getServices(options: GetServicesOptions = {}): Promise<TestServices> {
  const env = options.env ?? process.env;
  const local = options.probeLocal === false ? NO_LOCAL_SERVICES : await probeLocalServices(env);
  const runtime =
    needsContainerRuntime(env, local) && (await isContainerRuntimeReachable(options.runtimeProbeTimeoutMs));
  const plan = planServices(env, runtime, local);
  const problems = planProblems(plan);
  if (problems.length > 0) {
    throw new TestSupportError(
      TestSupportErrorCode.ServicesUnavailable,
      `cannot provide the services tests need:\n  - ${problems.join('\n  - ')}`,
    );
  }

  const stoppers: Stopper[] = [];
  const results = await Promise.allSettled([
    providePostgres(plan, env, stoppers),
    provideRabbitMq(plan, env, stoppers),
    provideS3(plan, env, stoppers),
  ]);
  const stopAll = async () => {
    await Promise.allSettled(stoppers.splice(0).map((stop) => stop()));
  };
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    await stopAll();
    throw new TestSupportError(
      TestSupportErrorCode.ServicesUnavailable,
      `could not start the services tests need:\n  - ${failures.map((e) => (e instanceof Error ? e.message : String(e))).join('\n  - ')}`,
    );
  }
  const [databaseUrl, amqpUrl, s3] = results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    string,
    string,
    S3Service,
  ];
  const sources = Object.fromEntries(BACKING_SERVICES.map((name) => [name, plan[name].source])) as Record<
    BackingService,
    ServiceSource
  >;
  return {
    databaseUrl,
    amqpUrl,
    s3,
    sources,
    env: servicesEnv(databaseUrl, amqpUrl, s3),
    describe: () =>
      `test services: postgres from ${sources.postgres} (${hostOf(databaseUrl)}), rabbitmq from ${sources.rabbitmq} (${hostOf(amqpUrl)}), s3 from ${sources.s3} (${hostOf(s3.endpoint)})`,
    stop: stopAll,
  };
}

/** The environment variables that carry the services to the services under test and to test workers. */
export function servicesEnv(databaseUrl: string, amqpUrl: string, s3: S3Service): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    AMQP_URL: amqpUrl,
    S3_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY: s3.accessKey,
    S3_SECRET_KEY: s3.secretKey,
    S3_REGION: s3.region,
  };
}

type Env = Readonly<Record<string, string | undefined>>;

async function providePostgres(plan: ServicePlan, env: Env, stoppers: Stopper[]): Promise<string> {
  if (plan.postgres.source === 'env') return env.DATABASE_URL as string;
  if (plan.postgres.source === 'local') return LOCAL_DATABASE_URL;
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  // The router's change capture needs logical decoding; every test stack has its own slot.
  const container = await new PostgreSqlContainer(POSTGRES_IMAGE)
    .withDatabase('test')
    .withCommand([
      'postgres',
      '-c',
      'wal_level=logical',
      '-c',
      'max_replication_slots=64',
      '-c',
      'max_wal_senders=64',
    ])
    .start();
  stoppers.push(async () => void (await container.stop()));
  return container.getConnectionUri();
}

async function provideRabbitMq(plan: ServicePlan, env: Env, stoppers: Stopper[]): Promise<string> {
  if (plan.rabbitmq.source === 'env') return env.AMQP_URL as string;
  if (plan.rabbitmq.source === 'local') return LOCAL_AMQP_URL;
  const { RabbitMQContainer } = await import('@testcontainers/rabbitmq');
  const container = await new RabbitMQContainer(RABBITMQ_IMAGE).start();
  stoppers.push(async () => void (await container.stop()));
  return container.getAmqpUrl();
}

async function provideS3(plan: ServicePlan, env: Env, stoppers: Stopper[]): Promise<S3Service> {
  const region = env.S3_REGION?.trim() || DEFAULT_S3_REGION;
  switch (plan.s3.source) {
    case 'env':
      return {
        endpoint: env.S3_ENDPOINT as string,
        accessKey: env.S3_ACCESS_KEY as string,
        secretKey: env.S3_SECRET_KEY as string,
        region,
      };
    case 'testcontainers': {
      const { MinioContainer } = await import('@testcontainers/minio');
      const container = await new MinioContainer(MINIO_IMAGE).start();
      stoppers.push(async () => void (await container.stop()));
      return {
        endpoint: container.getConnectionUrl(),
        accessKey: container.getUsername(),
        secretKey: container.getPassword(),
        region,
      };
    }
    case 's3rver': {
      const server = await startS3rver();
      stoppers.push(() => server.close());
      return { endpoint: server.endpoint, accessKey: server.accessKey, secretKey: server.secretKey, region };
    }
    case 'missing':
      throw new Error(plan.s3.problem);
    case 'local':
      // The plan never picks a loopback default for S3: MinIO has no well-known credentials.
      throw new Error('S3 has no loopback default');
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'unparseable URL';
  }
}
