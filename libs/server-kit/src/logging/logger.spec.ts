import { Writable } from 'node:stream';
import { runWithCorrelation } from './correlation-context';
import { createLogger, loadLogConfig, resolveLogFormat } from './logger';
import { scrubText } from './redact';

/** A logger writing JSON lines into memory. */
function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger('test-service', { format: 'json', level: 'info' }, sink);
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('service logger', () => {
  it('writes one JSON object per line with time, level, service and message', () => {
    const { logger, records } = capture();
    logger.info('ready');
    expect(records()).toEqual([
      expect.objectContaining({
        level: 'info',
        service: 'test-service',
        msg: 'ready',
        time: expect.any(String),
      }),
    ]);
  });

  it('adds the correlation id of the work in progress, across awaits', async () => {
    const { logger, records } = capture();
    await runWithCorrelation('sync-42', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      logger.info('inside');
    });
    logger.info('outside');
    expect(records().map((r) => [r.msg, r.correlationId])).toEqual([
      ['inside', 'sync-42'],
      ['outside', undefined],
    ]);
  });

  it('never writes a credential: not by key, not in a message, not in an error', () => {
    const { logger, lines } = capture();
    const secrets = [
      's3cr3t-client-secret',
      'admin-token-0123456789abcdef',
      'pg-pass-xyz',
      'bearer-abc.def-0123456789',
    ];
    logger.info(
      {
        secret: secrets[0],
        client: { name: 'lap-1', secret: secrets[0] },
        req: { headers: { authorization: `Bearer ${secrets[3]}`, 'x-outpost-admin-token': secrets[1] } },
        adminToken: secrets[1],
      },
      'opened',
    );
    logger.warn(`cannot connect to postgres://outpost:${secrets[2]}@db:5432/outpost`);
    logger.error(
      { err: new Error(`ADMIN_TOKEN=${secrets[1]} refused; Authorization: Bearer ${secrets[3]}`) },
      'failed',
    );
    const text = lines.join('\n');
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).toContain('postgres://outpost:***@db:5432/outpost');
    expect(text).toContain('"name":"lap-1"');
  });

  it('is JSON off a terminal and pretty on one, unless LOG_FORMAT says', () => {
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(loadLogConfig({ LOG_FORMAT: 'pretty' }).format).toBe('pretty');
    expect(() => loadLogConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });

  it('scrubs URL passwords, bearer tokens and key=value secrets from text', () => {
    expect(
      scrubText('amqp://guest:guest@mq:5672 and Bearer abc.DEF-1234567890xyz and password=hunter2'),
    ).toBe('amqp://guest:***@mq:5672 and Bearer *** and password=***');
    // Prose about a variable is not a secret: configuration errors stay readable.
    const prose = "ADMIN_TOKEN: too short: 10 characters (the administrators' bearer token)";
    expect(scrubText(prose)).toBe(prose);
  });
});
