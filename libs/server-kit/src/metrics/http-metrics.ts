import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { syncMetrics } from './metrics';

type Accounted = Socket & { outpostBytesRead?: number; outpostBytesWritten?: number };

/** Names the route of a request for the metrics' `route` label; a small fixed set, never raw paths. */
export type RouteOf = (method: string, path: string) => string;

/** Called once a response is finished, to count what the route means (a session, a file, ...). */
export type OnResponse = (route: string, status: number) => void;

/**
 * Counts every HTTP request and the bytes that went in and out for it. Bytes are read from the
 * socket, each request taking what the socket moved since the previous one ended, so keep-alive
 * connections and streamed bodies are counted exactly once without touching the body stream.
 */
export function httpMetricsMiddleware(routeOf: RouteOf, onResponse?: OnResponse) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const route = routeOf(req.method ?? 'GET', (req.url ?? '/').split('?')[0]);
    let counted = false;
    const count = () => {
      if (counted) return;
      counted = true;
      const socket = req.socket as Accounted;
      const read = socket.bytesRead - (socket.outpostBytesRead ?? 0);
      const written = socket.bytesWritten - (socket.outpostBytesWritten ?? 0);
      socket.outpostBytesRead = socket.bytesRead;
      socket.outpostBytesWritten = socket.bytesWritten;
      syncMetrics.bytesReceived.inc({ route }, Math.max(0, read));
      syncMetrics.bytesSent.inc({ route }, Math.max(0, written));
      syncMetrics.httpRequests.inc({ route, status: `${Math.floor(res.statusCode / 100)}xx` });
      onResponse?.(route, res.statusCode);
    };
    res.once('finish', count);
    res.once('close', count);
    next();
  };
}
