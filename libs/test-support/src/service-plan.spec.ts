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
        /^Postgres: DATABASE_URL is not set and no Docker engine is reachable: .*export DATABASE_URL=/,
      ),
      expect.stringMatching(
        /^RabbitMQ: AMQP_URL is not set and no Docker engine is reachable: .*export AMQP_URL=amqp:/,
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
