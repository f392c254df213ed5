import { createServer, connect, type Server, type Socket } from 'node:net';
import { TcpProxy } from './tcp-proxy';
import { waitFor } from './wait-for';

function echoServer(): Promise<Server> {
  const server = createServer((s) => s.pipe(s));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

describe('TcpProxy', () => {
  let echo: Server;
  let proxy: TcpProxy;

  beforeEach(async () => {
    echo = await echoServer();
    const address = echo.address() as { port: number };
    proxy = await TcpProxy.start({ targetHost: '127.0.0.1', targetPort: address.port });
  });
  afterEach(async () => {
    await proxy.close();
    await new Promise((resolve) => echo.close(resolve));
  });

  it('passes bytes both ways, holds them while stalled, and lets them through on restore', async () => {
    const s = await open(proxy.port);
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.write('hello');
    await waitFor(() => got === 'hello', { timeoutMs: 5_000, description: 'echo through the proxy' });
    proxy.stall();
    s.write(' world');
    await new Promise((resolve) => setImmediate(resolve));
    expect(got).toBe('hello');
    await proxy.restore();
    await waitFor(() => got === 'hello world', { timeoutMs: 5_000, description: 'stalled bytes delivered' });
    proxy.slow(1000);
    s.write('x'.repeat(300));
    await waitFor(() => got.length === 311, { timeoutMs: 10_000, description: 'slowed bytes delivered' });
    s.destroy();
  });

  it('drops connections and refuses new ones while cut, on the same port after restore', async () => {
    const s = await open(proxy.port);
    const closed = new Promise((resolve) => s.once('close', resolve));
    s.on('error', () => undefined);
    const port = proxy.port;
    await proxy.cut();
    await closed;
    await expect(open(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.restore();
    expect(proxy.port).toBe(port);
    const again = await open(port);
    again.destroy();
    expect(proxy.accepted).toBe(2);
  });
});
