import * as net from 'node:net';
import { AgentErrorCode } from '../errors';
import { GatewayClient } from './gateway-client';

/**
 * A server that answers each connection's first request (keep-alive) and resets the connection on
 * any later one: what a client sees when the server closes an idle kept-alive socket just as the
 * client sends on it.
 */
async function resettingServer(): Promise<{
  url: string;
  connections: () => number;
  close: () => Promise<void>;
}> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    let answered = false;
    socket.on('data', () => {
      if (answered) {
        socket.resetAndDestroy();
        return;
      }
      answered = true;
      const body = JSON.stringify({ receivedBytes: 5 });
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`,
      );
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('gateway client', () => {
  it('sends a request again on a new socket when the kept-alive one was reset under it', async () => {
    const server = await resettingServer();
    try {
      const client = new GatewayClient(server.url);
      expect(await client.uploadPartsReceived(1, 'a'.repeat(64))).toBe(5);
      // The agent reuses the idle socket, the server resets it: the request goes out again.
      expect(await client.uploadPartsReceived(1, 'a'.repeat(64))).toBe(5);
      expect(server.connections()).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('calls the server unreachable when a fresh socket is reset too', async () => {
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', () => socket.resetAndDestroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      const client = new GatewayClient(`http://127.0.0.1:${port}`);
      await expect(client.uploadPartsReceived(1, 'a'.repeat(64))).rejects.toMatchObject({
        code: AgentErrorCode.ServerUnreachable,
      });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
