import { AgentError, AgentErrorCode } from '../errors';
import { assertServerTransport, isLoopbackHost } from './server-transport';

function refusal(server: string, insecureHttp = false): AgentError | null {
  try {
    assertServerTransport(server, insecureHttp, '--server or SYNC_AGENT_SERVER');
    return null;
  } catch (err) {
    return err as AgentError;
  }
}

describe('server transport', () => {
  it.each([
    'http://10.255.255.1:1',
    'http://192.0.2.2:8080',
    'http://sync.example.com',
    'http://127.0.0.1.example.com:8080',
    'http://localhost.example.com',
    'http://128.0.0.1',
    'http://[fe80::1]:8080',
    'http://[::ffff:127.0.0.1]',
  ])('refuses plain http to %s, a host other than loopback, with INSECURE_HTTP', (server) => {
    const err = refusal(server);
    expect(err).toBeInstanceOf(AgentError);
    expect(err?.code).toBe(AgentErrorCode.InsecureHttp);
    expect(err?.message).toMatch(
      /^refusing plain http:\/\/ to .+ \(server URL from --server or SYNC_AGENT_SERVER\)/,
    );
    expect(err?.message).toMatch(/Use the https:\/\/ URL of the server/);
    expect(err?.message).toMatch(/--insecure-http \(SYNC_AGENT_INSECURE_HTTP=1\) if you accept/);
  });

  it.each([
    'http://127.0.0.1:8080',
    'http://127.255.0.9',
    'http://localhost:8080',
    'http://LOCALHOST:8080',
    'http://[::1]:8080',
    'http://0x7f.1:8080',
  ])('allows plain http to the loopback host of %s', (server) => {
    expect(refusal(server)).toBeNull();
  });

  it('allows https to any host', () => {
    expect(refusal('https://10.255.255.1:1')).toBeNull();
    expect(refusal('https://sync.example.com')).toBeNull();
  });

  it('allows plain http to another machine with --insecure-http', () => {
    expect(refusal('http://10.255.255.1:1', true)).toBeNull();
    expect(refusal('http://sync.example.com', true)).toBeNull();
  });

  it('reads loopback from the parsed host only', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('127.0.0.256')).toBe(false);
    expect(isLoopbackHost('127.0.0')).toBe(false);
  });
});
