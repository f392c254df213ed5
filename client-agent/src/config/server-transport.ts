import { AgentError, AgentErrorCode } from '../errors';

/**
 * Plain http:// is accepted only where nobody else is on the path: the loopback interface. The
 * host is taken from the parsed URL, which already normalises numeric forms (`0x7f.1`, `2130706433`)
 * to dotted IPv4, so a look-alike name such as `127.0.0.1.example.com` is not mistaken for loopback.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]') return true;
  const octets = host.split('.');
  return (
    octets.length === 4 && octets[0] === '127' && octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)
  );
}

/**
 * Refuses to talk plain HTTP to another machine: the session request carries the client secret and
 * every file carries business data, readable and alterable by anyone on the network path. Checked
 * before any connection is opened; `insecureHttp` is the user's explicit acceptance of that risk,
 * given per run and never stored, so a folder copied elsewhere or a URL edited later does not
 * inherit it. `source` says where the URL came from, so the message points at what to change.
 */
export function assertServerTransport(server: string, insecureHttp: boolean, source: string): void {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return; // configProblems reports a URL that does not parse
  }
  if (url.protocol !== 'http:' || insecureHttp || isLoopbackHost(url.hostname)) return;
  throw new AgentError(
    AgentErrorCode.InsecureHttp,
    `refusing plain http:// to ${url.host} (server URL from ${source}): the client secret and your data ` +
      'would cross the network unencrypted. Use the https:// URL of the server (with --ca if its ' +
      'certificate comes from a private CA), or pass --insecure-http (SYNC_AGENT_INSECURE_HTTP=1) ' +
      'if you accept that anyone on the network path can read and change them',
    { server, host: url.hostname, source },
  );
}
