import { needsContainerRuntime, planProblems, planServices } from './service-plan';

const full = {
  DATABASE_URL: 'postgres://postgres@db:5432/test',
  AMQP_URL: 'amqp://guest:guest@mq:5672',
  S3_ENDPOINT: 'http://s3:9000',
  S3_ACCESS_KEY: 'key',
  S3_SECRET_KEY: 'secret',
};

describe('planServices', () => {
  it('takes every service from the environment when all variables are set, Docker or not', () => {
    for (const runtime of [true, false]) {
      expect(planServices(full, runtime)).toEqual({
        postgres: { source: 'env' },
        rabbitmq: { source: 'env' },
        s3: { source: 'env' },
      });
    }
    expect(needsContainerRuntime(full)).toBe(false);
  });

  it('starts containers for what the environment lacks when Docker is reachable', () => {
    const plan = planServices({ DATABASE_URL: full.DATABASE_URL }, true);
    expect(plan).toEqual({
      postgres: { source: 'env' },
      rabbitmq: { source: 'testcontainers' },
      s3: { source: 'testcontainers' },
    });
    expect(planProblems(plan)).toEqual([]);
  });

  it('uses s3rver for S3 when there is neither S3_ENDPOINT nor Docker', () => {
    const plan = planServices({ DATABASE_URL: full.DATABASE_URL, AMQP_URL: full.AMQP_URL }, false);
    expect(plan.s3).toEqual({ source: 's3rver' });
    expect(planProblems(plan)).toEqual([]);
  });

  it('names every missing service and how to provide it when there is no Docker', () => {
    const problems = planProblems(planServices({}, false));
    expect(problems).toEqual([
      expect.stringMatching(
        /^Postgres: DATABASE_URL is not set, nothing answers on its default loopback port and no Docker engine is reachable: .*export DATABASE_URL=/,
      ),
      expect.stringMatching(
        /^RabbitMQ: AMQP_URL is not set, nothing answers on its default loopback port and no Docker engine is reachable: .*export AMQP_URL=amqp:/,
      ),
    ]);
  });

  it('treats blank variables as unset', () => {
    const plan = planServices({ ...full, AMQP_URL: '  ' }, false);
    expect(plan.rabbitmq.source).toBe('missing');
    expect(needsContainerRuntime({ ...full, DATABASE_URL: '' })).toBe(true);
  });

  it('rejects an S3 endpoint without credentials instead of guessing them', () => {
    const plan = planServices({ ...full, S3_ACCESS_KEY: undefined, S3_SECRET_KEY: undefined }, true);
    expect(planProblems(plan)).toEqual([
      'S3: S3_ENDPOINT is set but S3_ACCESS_KEY and S3_SECRET_KEY are not: export the credentials of http://s3:9000, or unset S3_ENDPOINT to use a local stand-in',
    ]);
  });
});

describe('planServices with local servers', () => {
  it('uses Postgres and RabbitMQ on their loopback ports before containers when their variables are unset', () => {
    const plan = planServices({}, true, { postgres: true, rabbitmq: true });
    expect(plan).toEqual({
      postgres: { source: 'local' },
      rabbitmq: { source: 'local' },
      s3: { source: 'testcontainers' },
    });
  });

  it('prefers the environment over a local server', () => {
    const plan = planServices({ DATABASE_URL: full.DATABASE_URL }, false, { postgres: true, rabbitmq: true });
    expect(plan.postgres).toEqual({ source: 'env' });
    expect(plan.rabbitmq).toEqual({ source: 'local' });
    expect(plan.s3).toEqual({ source: 's3rver' });
  });

  it('needs no container runtime when local servers and s3rver cover everything but S3 is unset', () => {
    expect(needsContainerRuntime({}, { postgres: true, rabbitmq: true })).toBe(true);
    expect(needsContainerRuntime({ S3_ENDPOINT: 'http://s3:9000' }, { postgres: true, rabbitmq: true })).toBe(
      false,
    );
    expect(
      needsContainerRuntime({ S3_ENDPOINT: 'http://s3:9000' }, { postgres: true, rabbitmq: false }),
    ).toBe(true);
  });

  it('falls back to containers for the one local server that does not answer', () => {
    const plan = planServices({}, true, { postgres: true, rabbitmq: false });
    expect(plan.rabbitmq).toEqual({ source: 'testcontainers' });
  });
});
