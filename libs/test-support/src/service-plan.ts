/** The backing services the server needs, as tests see them. */
export type BackingService = 'postgres' | 'rabbitmq' | 's3';
export type ServiceSource = 'env' | 'local' | 'testcontainers' | 's3rver';

export type PlanEntry = { source: ServiceSource } | { source: 'missing'; problem: string };
export type ServicePlan = Record<BackingService, PlanEntry>;

export const BACKING_SERVICES: readonly BackingService[] = ['postgres', 'rabbitmq', 's3'];

type Env = Readonly<Record<string, string | undefined>>;

/** Postgres and RabbitMQ on their default loopback ports, tried when their variable is unset. */
export const LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const LOCAL_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** Which of Postgres and RabbitMQ answered on their default loopback ports. */
export interface LocalServices {
  postgres: boolean;
  rabbitmq: boolean;
}

export const NO_LOCAL_SERVICES: LocalServices = { postgres: false, rabbitmq: false };

/** Whether any service would need a container runtime, i.e. is not fully given by the environment. */
export function needsContainerRuntime(env: Env, local: LocalServices = NO_LOCAL_SERVICES): boolean {
  return (
    (!hasValue(env.DATABASE_URL) && !local.postgres) ||
    (!hasValue(env.AMQP_URL) && !local.rabbitmq) ||
    !hasValue(env.S3_ENDPOINT)
  );
}

/**
 * Decides where each service comes from: the environment when its variables are set, otherwise
 * (Postgres, RabbitMQ) the server answering on its default loopback port, otherwise testcontainers
 * when a container runtime answers, otherwise (S3 only) an in-process s3rver.
 * Pure, so the rules are unit-tested without Docker or network.
 */
export function planServices(
  env: Env,
  containerRuntimeReachable: boolean,
  local: LocalServices = NO_LOCAL_SERVICES,
): ServicePlan {
  return {
    postgres: planOne(env, 'DATABASE_URL', local.postgres, containerRuntimeReachable, () =>
      missing(
        'Postgres',
        'DATABASE_URL',
        'start Postgres and export DATABASE_URL=postgres://postgres@127.0.0.1:5432/test',
      ),
    ),
    rabbitmq: planOne(env, 'AMQP_URL', local.rabbitmq, containerRuntimeReachable, () =>
      missing('RabbitMQ', 'AMQP_URL', 'start RabbitMQ and export AMQP_URL=amqp://guest:guest@127.0.0.1:5672'),
    ),
    s3: planS3(env, containerRuntimeReachable),
  };
}

/** Every service the plan could not provide, each with what to do about it; empty when all are there. */
export function planProblems(plan: ServicePlan): string[] {
  return BACKING_SERVICES.flatMap((name) => {
    const entry = plan[name];
    return entry.source === 'missing' ? [entry.problem] : [];
  });
}

function planOne(
  env: Env,
  variable: string,
  localAnswers: boolean,
  runtime: boolean,
  onMissing: () => PlanEntry,
): PlanEntry {
  if (hasValue(env[variable])) return { source: 'env' };
  if (localAnswers) return { source: 'local' };
  return runtime ? { source: 'testcontainers' } : onMissing();
}

function planS3(env: Env, runtime: boolean): PlanEntry {
  if (hasValue(env.S3_ENDPOINT)) {
    const absent = ['S3_ACCESS_KEY', 'S3_SECRET_KEY'].filter((name) => !hasValue(env[name]));
    if (absent.length === 0) return { source: 'env' };
    return {
      source: 'missing',
      problem: `S3: S3_ENDPOINT is set but ${absent.join(' and ')} ${absent.length > 1 ? 'are' : 'is'} not: export the credentials of ${env.S3_ENDPOINT}, or unset S3_ENDPOINT to use a local stand-in`,
    };
  }
  return { source: runtime ? 'testcontainers' : 's3rver' };
}

function missing(service: string, variable: string, remedy: string): PlanEntry {
  return {
    source: 'missing',
    problem: `${service}: ${variable} is not set, nothing answers on its default loopback port and no Docker engine is reachable: ${remedy}`,
  };
}

function hasValue(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}
