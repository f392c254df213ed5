import { ConfigError, int, loadConfig, optionalStr, port, str, url } from './config';
import { sharedVars } from './shared-vars';

describe('loadConfig', () => {
  const spec = {
    databaseUrl: sharedVars.databaseUrl,
    adminToken: sharedVars.adminToken,
    gatewayPort: sharedVars.gatewayPort,
    sessionKey: optionalStr('SESSION_KEY', 'a key'),
  };

  it('applies the documented defaults and parses values', () => {
    const cfg = loadConfig(spec, { ADMIN_TOKEN: 'a-long-admin-token-1234', GATEWAY_PORT: '9001' });
    expect(cfg).toEqual({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/outpost',
      adminToken: 'a-long-admin-token-1234',
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

  it('treats an empty value as unset', () => {
    expect(loadConfig({ p: port('P', 8080, 'p') }, { P: '  ' })).toEqual({ p: 8080 });
  });
});
