import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import type { ClientInboxResponse, ConflictView, OutboundFileView, RefusalView } from '@outpost/contracts';

/**
 * An in-process stand-in for the gateway's agent API, enough to exercise the agent's HTTP client:
 * it stores uploads in memory and serves the download files it is given.
 */
export class FakeGateway {
  readonly held = new Map<number, { sha256: string; body: Buffer }>();
  readonly puts: number[] = [];
  readonly ranges: (string | undefined)[] = [];
  readonly acks: unknown[] = [];
  closedWith: unknown = null;
  epoch = 1;
  downloads: (OutboundFileView & { body: Buffer })[] = [];
  /** How many list requests answer extractPending before the files appear. */
  pendingPolls = 0;
  conflicts: ConflictView[] = [];
  /** What `GET /v1/inbox` answers. */
  inbox: ClientInboxResponse = { appliedFileSeq: 0, appliedTxnSeq: 0, lastUploadedTxnSeq: 0, files: [] };
  /** The server position a new session reports. */
  lastUploaded = { fileSeq: 0, txnSeq: 0 };
  extractRequests = 0;
  refusals: RefusalView[] = [];
  /** Answer every request to this path with a JSON error. */
  failPath: { path: string; status: number; code: string } | null = null;
  private server = http.createServer((req, res) => void this.handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  addDownload(fileSeq: number, kind: 'changes' | 'extract', body: Buffer, txnCount: number): void {
    this.downloads.push({ fileSeq, kind, size: body.length, sha256: sha(body), txnCount, body });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await read(req);
    const url = req.url ?? '';
    const send = (status: number, payload?: unknown, headers: http.OutgoingHttpHeaders = {}) => {
      res.writeHead(status, {
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    if (this.failPath && url === this.failPath.path) {
      return send(this.failPath.status, {
        error: { code: this.failPath.code, message: 'refused by the fake', correlationId: 'corr-1' },
      });
    }
    if (req.method === 'POST' && url === '/v1/sessions') {
      const { client, secret } = JSON.parse(body.toString()) as { client: string; secret: string };
      if (secret !== 'secret-1')
        return send(401, {
          error: { code: 'CLIENT_AUTH_FAILED', message: `bad secret for ${client}`, correlationId: 'c0' },
        });
      return send(201, {
        sessionId: 's1',
        token: 'tok',
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        lastUploadedFileSeq: this.lastUploaded.fileSeq,
        lastUploadedTxnSeq: this.lastUploaded.txnSeq,
        userLogin: 'alice',
      });
    }
    if (req.headers.authorization !== 'Bearer tok')
      return send(401, { error: { code: 'SESSION_INVALID', message: 'no session', correlationId: 'c1' } });
    const upload = /^\/v1\/upload\/(\d+)$/.exec(url);
    if (upload && req.method === 'HEAD') {
      const held = this.held.get(Number(upload[1]));
      return held ? send(200, undefined, { 'x-dx-sha256': held.sha256 }) : send(404);
    }
    if (upload && req.method === 'PUT') {
      const seq = Number(upload[1]);
      this.puts.push(seq);
      if (sha(body) !== req.headers['x-dx-sha256'])
        return send(422, { error: { code: 'CHECKSUM_MISMATCH', message: 'sha', correlationId: 'c2' } });
      const duplicate = this.held.has(seq);
      this.held.set(seq, { sha256: sha(body), body });
      return send(duplicate ? 200 : 201, { status: duplicate ? 'duplicate' : 'stored', fileSeq: seq });
    }
    if (req.method === 'GET' && url === '/v1/download') {
      const pending = this.pendingPolls > 0;
      if (pending) this.pendingPolls--;
      const files = pending ? [] : this.downloads.map(({ body: _b, ...view }) => view);
      return send(200, { epoch: this.epoch, files, extractPending: pending });
    }
    const download = /^\/v1\/download\/(\d+)$/.exec(url);
    if (download && req.method === 'GET') {
      const file = this.downloads.find((f) => f.fileSeq === Number(download[1]));
      if (!file)
        return send(404, { error: { code: 'FILE_NOT_FOUND', message: 'no such file', correlationId: 'c3' } });
      this.ranges.push(req.headers.range);
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (range) {
        const from = Number(range[1]);
        res.writeHead(206, {
          'content-range': `bytes ${from}-${file.size - 1}/${file.size}`,
          'content-length': file.size - from,
        });
        return void res.end(file.body.subarray(from));
      }
      res.writeHead(200, { 'content-length': file.size });
      return void res.end(file.body);
    }
    if (req.method === 'POST' && url === '/v1/download/ack') {
      this.acks.push(JSON.parse(body.toString()));
      return send(204);
    }
    if (req.method === 'GET' && url === '/v1/conflicts') return send(200, this.conflicts);
    if (req.method === 'GET' && url === '/v1/inbox') return send(200, this.inbox);
    if (req.method === 'POST' && url === '/v1/download/extract') {
      this.extractRequests++;
      return send(202);
    }
    if (req.method === 'GET' && url === '/v1/refusals') return send(200, this.refusals);
    if (req.method === 'DELETE' && url === '/v1/sessions/current') {
      this.closedWith = JSON.parse(body.toString());
      return send(204);
    }
    send(404, { error: { code: 'ROUTE_NOT_FOUND', message: `${req.method} ${url}`, correlationId: 'c4' } });
  }
}

function sha(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

async function read(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A loopback port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
