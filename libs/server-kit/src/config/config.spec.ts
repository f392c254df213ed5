import {
  ConfigError,
  credential,
  decimal,
  int,
  loadConfig,
  optionalStr,
  port,
  secret,
  str,
  url,
} from './config';
import { sharedVars } from './shared-vars';

const STRONG = 'q3N8xV1rT6kW0pZ4mB7cY2hJ5sD9fL_a';

describe('loadConfig', () => {
  const spec = {
    databaseUrl: sharedVars.databaseUrl,
    adminToken: sharedVars.adminToken,
    gatewayPort: sharedVars.gatewayPort,
    sessionKey: optionalStr('SESSION_KEY', 'a key'),
  };

  it('applies the documented defaults and parses values', () => {
    const cfg = loadConfig(spec, { ADMIN_TOKEN: STRONG, GATEWAY_PORT: '9001' });
    expect(cfg).toEqual({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/outpost',
      adminToken: STRONG,
      gatewayPort: 9001,
      sessionKey: undefined,
    });
  });

  it('lists every bad or missing variable in one error', () => {
    let caught: unknown;
    try {
      loadConfig(spec, { DATABASE_URL: 'mysql://x', GATEWAY_PORT: '70000' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.map((p) => p.env).sort();
    expect(problems).toEqual(['ADMIN_TOKEN', 'DATABASE_URL', 'GATEWAY_PORT']);
    expect((caught as ConfigError).message).toContain('ADMIN_TOKEN: missing');
    expect((caught as ConfigError).message).toContain('70000 is above 65535');
  });

  it('rejects non-integers, short strings and non-URLs', () => {
    const s = {
      n: int('N', { description: 'n', min: 1 }),
      p: port('P', 1, 'p'),
      s: str('S', { description: 's', minLength: 3 }),
      u: url('U', { description: 'u', protocols: ['http:'] }),
    };
    expect(() => loadConfig(s, { N: '1.5', P: 'x', S: 'ab', U: 'nope' })).toThrow(
      /N: not an integer[\s\S]*P: not an integer[\s\S]*S: too short[\s\S]*U: not a URL/,
    );
  });

  it('reads decimals (a fraction of a day) and refuses words and out-of-range values', () => {
    const s = { d: decimal('D', { description: 'd', min: 0, max: 10 }) };
    expect(loadConfig(s, { D: '0.5' })).toEqual({ d: 0.5 });
    expect(loadConfig(s, { D: '.25' })).toEqual({ d: 0.25 });
    expect(() => loadConfig(s, { D: '1e3' })).toThrow(/D: not a number/);
    expect(() => loadConfig(s, { D: '-1' })).toThrow(/D: -1 is below 0/);
    expect(() => loadConfig(s, { D: '11' })).toThrow(/D: 11 is above 10/);
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ p: port('P', 8080, 'p') }, { P: '  ' })).toEqual({ p: 8080 });
  });

  it('refuses short and placeholder secrets, names every one, and never echoes them', () => {
    const s = {
      a: secret('A', { description: 'a' }),
      b: secret('B', { description: 'b' }),
      c: secret('C', { description: 'c' }),
      d: secret('D', { description: 'd' }),
      ok: secret('OK', { description: 'ok' }),
      s3: credential('S3', { description: 's3' }),
      db: url('DB', { description: 'db', protocols: ['postgres:'], checkPassword: true }),
    };
    let caught: ConfigError | undefined;
    try {
      loadConfig(s, {
        A: 'short-but-random-Xq9',
        B: 'CHANGE-ME-to-at-least-16-characters-long',
        C: 'abcabcabcabcabcabcabcabcabcabcabcabc',
        D: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbb',
        OK: STRONG,
        S3: 'outpost-secret',
        DB: 'postgres://outpost:changeme@db:5432/outpost',
      });
    } catch (err) {
      caught = err as ConfigError;
    }
    expect(caught?.problems.map((p) => p.env)).toEqual(['A', 'B', 'C', 'D', 'S3', 'DB']);
    const text = caught?.message ?? '';
    expect(text).toMatch(/A: too short: 20 characters, need at least 32/);
    expect(text).toMatch(/B: looks like a placeholder \(contains "changeme"\)/);
    expect(text).toMatch(/C: is one pattern repeated/);
    expect(text).toMatch(/D: uses only 2 distinct characters/);
    expect(text).toMatch(/S3: looks like a placeholder \(contains "secret"\)/);
    expect(text).toMatch(/DB: its password looks like a placeholder/);
    for (const leaked of ['short-but-random-Xq9', 'CHANGE-ME-to', 'outpost-secret', 'changeme@db'])
      expect(text).not.toContain(leaked);
  });

  it('adds the problems of cross-variable checks to the list', () => {
    const s = { p: port('P', 1, 'p') };
    expect(() => loadConfig(s, { P: 'x' }, () => [{ env: 'Q', problem: 'missing while P is set' }])).toThrow(
      /P: not an integer[\s\S]*Q: missing while P is set/,
    );
  });
});
