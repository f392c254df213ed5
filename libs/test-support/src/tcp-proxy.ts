import { createServer, connect, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'stall' | 'slow';

export interface TcpProxyOptions {
  /** Where connections go. */
  targetHost: string;
  targetPort: number;
  /** Loopback port to listen on; default any free one. */
  port?: number;
}

/**
 * A loopback TCP proxy for fault tests: put it between a service and its dependency (or between
 * agents and the gateway) and break the path at will, without touching the servers on either
 * side. `cut()` drops every connection and refuses new ones (what a client sees of a restarting
 * server), `stall()` keeps connections open but forwards nothing, `slow(bytesPerSecond)` trickles
 * the bytes; `restore()` goes back to passing everything.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<Pipe>();
  private mode: ProxyMode = 'pass';
  private rate = 0;
  private listenPort: number;
  /** Connections accepted since the start, for assertions that traffic went through. */
  accepted = 0;

  private constructor(private readonly options: TcpProxyOptions) {
    this.listenPort = options.port ?? 0;
  }

  static async start(options: TcpProxyOptions): Promise<TcpProxy> {
    const proxy = new TcpProxy(options);
    await proxy.listen();
    return proxy;
  }

  get port(): number {
    return this.listenPort;
  }

  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.listenPort);
    return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
  }

  /** Drops every open connection and refuses new ones until `restore()`. */
  async cut(): Promise<void> {
    // The server's close completes only once its connections are gone: stop accepting first.
    const closed = this.stopListening();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.pairs.clear();
    await closed;
  }

  /** Open connections stay open but carry nothing; new ones are accepted and held the same way. */
  stall(): void {
    this.mode = 'stall';
  }

  /** Every direction of every connection carries at most `bytesPerSecond`. */
  slow(bytesPerSecond: number): void {
    this.mode = 'slow';
    this.rate = Math.max(1, bytesPerSecond);
    for (const p of this.pairs) p.pump();
  }

  /** Back to passing everything; after a cut, listens again on the same port. */
  async restore(): Promise<void> {
    this.mode = 'pass';
    for (const p of this.pairs) p.pump();
    if (!this.server) await this.listen();
  }

  async close(): Promise<void> {
    await this.cut();
  }

  get currentMode(): ProxyMode {
    return this.mode;
  }

  get bytesPerSecond(): number {
    return this.rate;
  }

  private listen(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        if (address && typeof address === 'object') this.listenPort = address.port;
        this.server = server;
        resolve();
      });
    });
  }

  private stopListening(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.accepted++;
    const upstream = connect(this.options.targetPort, this.options.targetHost);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    const there = new Pipe(client, upstream, this);
    const back = new Pipe(upstream, client, this);
    this.pairs.add(there).add(back);
    client.on('close', () => {
      this.pairs.delete(there);
      this.pairs.delete(back);
    });
  }

  /** @internal how many bytes a pipe may pass now; Infinity when not throttled, 0 when stalled. */
  allowance(): number {
    if (this.mode === 'pass') return Infinity;
    if (this.mode === 'stall') return 0;
    return this.rate;
  }
}

/** One direction of one connection: queues what it cannot pass yet. */
class Pipe {
  private readonly queue: Buffer[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly proxy: TcpProxy,
  ) {
    from.on('data', (chunk: Buffer) => {
      this.queue.push(chunk);
      this.pump();
    });
    from.on('end', () => {
      this.queue.push(END);
      this.pump();
    });
  }

  pump(): void {
    if (this.timer) return;
    const allowance = this.proxy.allowance();
    if (allowance === 0 || this.queue.length === 0) return;
    if (allowance === Infinity) {
      while (this.queue.length > 0) this.write(this.queue.shift() as Buffer);
      return;
    }
    // Throttled: a tenth of the per-second budget every 100 ms.
    let budget = Math.max(1, Math.floor(allowance / 10));
    while (budget > 0 && this.queue.length > 0) {
      const head = this.queue[0];
      if (head === END || head.length <= budget) {
        this.queue.shift();
        budget -= head.length;
        this.write(head);
      } else {
        this.queue[0] = head.subarray(budget);
        this.write(head.subarray(0, budget));
        budget = 0;
      }
    }
    this.from.pause();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.from.resume();
      this.pump();
    }, 100);
  }

  private write(chunk: Buffer): void {
    if (chunk === END) this.to.end();
    else if (!this.to.destroyed) this.to.write(chunk);
  }
}

const END = Buffer.alloc(0);
