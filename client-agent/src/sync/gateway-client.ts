import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { Readable } from 'node:stream';
import type {
  ClientInboxResponse,
  CloseSessionRequest,
  ConflictView,
  RefusalView,
  DownloadAckRequest,
  DownloadListResponse,
  ErrorBody,
  OpenSessionRequest,
  OpenSessionResponse,
  UploadCompleteRequest,
  UploadPartsResponse,
  UploadResponse,
} from '@outpost/contracts';
import { CORRELATION_HEADER } from '@outpost/contracts';
import { AgentError, AgentErrorCode } from '../errors';

/** Network failures that mean "offline or server down", as opposed to a server that answered. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'ECONNABORTED',
]);

export interface GatewayOptions {
  caFile?: string;
  /** Idle socket timeout; a server that stops answering counts as unreachable. */
  timeoutMs?: number;
  /** Sent as x-correlation-id on every request, so the server's logs of one sync share it. */
  correlationId?: string;
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

type Body = Buffer | { stream: Readable; length: number } | undefined;

const isStream = (body: Body): body is { stream: Readable; length: number } =>
  body !== undefined && !Buffer.isBuffer(body);

/** The agent HTTP API of the sync gateway (docs/architecture.md), over node:http/https so uploads stream. */
export class GatewayClient {
  private token: string | null = null;
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly correlationId: string | undefined;

  constructor(
    readonly serverUrl: string,
    opts: GatewayOptions = {},
  ) {
    this.base = new URL(serverUrl.endsWith('/') ? serverUrl : `${serverUrl}/`);
    // Long enough for a session opened while many laptops connect at once (the server queues them).
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.correlationId = opts.correlationId;
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ca: opts.caFile ? fs.readFileSync(opts.caFile) : undefined })
        : new http.Agent({ keepAlive: true });
  }

  async openSession(req: OpenSessionRequest): Promise<OpenSessionResponse> {
    const session = await this.json<OpenSessionResponse>('POST', 'v1/sessions', req, [201, 200]);
    this.token = session.token;
    return session;
  }

  /** The sha256 of the file the server holds under `fileSeq`, or null when it holds none. */
  async uploadedSha256(fileSeq: number): Promise<string | null> {
    const res = await this.send('HEAD', `v1/upload/${fileSeq}`);
    if (res.status === 404) return null;
    if (res.status !== 200) throw this.failure('HEAD', `v1/upload/${fileSeq}`, res);
    const sha = res.headers['x-dx-sha256'];
    return typeof sha === 'string' ? sha : null;
  }

  async upload(
    fileSeq: number,
    file: string,
    sha256: string,
    onBytes: (n: number) => void,
  ): Promise<UploadResponse> {
    const length = fs.statSync(file).size;
    const stream = fs.createReadStream(file);
    stream.on('data', (chunk) => onBytes(chunk.length));
    const res = await this.send(
      'PUT',
      `v1/upload/${fileSeq}`,
      { stream, length },
      {
        'content-type': 'application/octet-stream',
        'x-dx-sha256': sha256,
      },
    );
    if (res.status !== 201 && res.status !== 200) throw this.failure('PUT', `v1/upload/${fileSeq}`, res);
    return (
      parseJson<UploadResponse>(res.body) ?? { status: res.status === 201 ? 'stored' : 'duplicate', fileSeq }
    );
  }

  /** How many of the file's first bytes the server holds from an upload in parts (0 for none). */
  async uploadPartsReceived(fileSeq: number, sha256: string): Promise<number> {
    const path = `v1/upload/${fileSeq}/parts`;
    const res = await this.send('GET', path, undefined, { 'x-dx-sha256': sha256 });
    if (res.status !== 200) throw this.failure('GET', path, res);
    return parseJson<UploadPartsResponse>(res.body)?.receivedBytes ?? 0;
  }

  /** Sends `length` bytes of the file from `offset`; resolves with the bytes the server holds after it. */
  async uploadPart(
    fileSeq: number,
    sha256: string,
    file: string,
    offset: number,
    length: number,
    onBytes: (n: number) => void,
  ): Promise<number> {
    const path = `v1/upload/${fileSeq}/parts/${offset}`;
    const stream = fs.createReadStream(file, { start: offset, end: offset + length - 1 });
    stream.on('data', (chunk) => onBytes(chunk.length));
    const res = await this.send(
      'PUT',
      path,
      { stream, length },
      { 'content-type': 'application/octet-stream', 'x-dx-sha256': sha256 },
    );
    if (res.status !== 200) throw this.failure('PUT', path, res);
    const received = parseJson<UploadPartsResponse>(res.body)?.receivedBytes;
    return typeof received === 'number' ? received : offset;
  }

  /** Asks the server to check and store the file from the parts it holds. */
  completeUpload(fileSeq: number, sha256: string, size: number): Promise<UploadResponse> {
    const body: UploadCompleteRequest = { sha256, size };
    return this.json<UploadResponse>('POST', `v1/upload/${fileSeq}/complete`, body, [201, 200]);
  }

  listDownloads(): Promise<DownloadListResponse> {
    return this.json<DownloadListResponse>('GET', 'v1/download', undefined, [200]);
  }

  /**
   * Downloads into `partFile`, resuming with a Range request from the bytes already there.
   * Resolves with the file's full size once the part file is complete.
   */
  async download(fileSeq: number, partFile: string, onBytes: (n: number) => void): Promise<number> {
    const have = fs.existsSync(partFile) ? fs.statSync(partFile).size : 0;
    const path = `v1/download/${fileSeq}`;
    const res = await this.request('GET', path, undefined, have > 0 ? { range: `bytes=${have}-` } : {});
    if (res.statusCode === 416 && have > 0) {
      // The part file already holds everything.
      res.resume();
      return have;
    }
    if (res.statusCode !== 200 && res.statusCode !== 206) {
      const body = await readAll(res);
      throw this.failure('GET', path, { status: res.statusCode ?? 0, headers: res.headers, body });
    }
    const append = res.statusCode === 206;
    if (append) onBytes(have);
    const out = fs.createWriteStream(partFile, { flags: append ? 'a' : 'w' });
    let written = append ? have : 0;
    try {
      for await (const chunk of res) {
        const buf = chunk as Buffer;
        // Count bytes once they are written, so progress (and a resume after a crash) reflects the disk.
        await new Promise<void>((resolve, reject) =>
          out.write(buf, (err) => (err ? reject(err) : resolve())),
        );
        written += buf.length;
        onBytes(buf.length);
      }
    } catch (err) {
      throw this.networkError(err, 'GET', path);
    } finally {
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    }
    return written;
  }

  async ack(req: DownloadAckRequest): Promise<void> {
    await this.json<unknown>('POST', 'v1/download/ack', req, [204, 200]);
  }

  async conflicts(): Promise<ConflictView[]> {
    const body = await this.json<ConflictView[] | { conflicts: ConflictView[] }>(
      'GET',
      'v1/conflicts',
      undefined,
      [200],
    );
    return Array.isArray(body) ? body : (body?.conflicts ?? []);
  }

  /** What the server holds of this client's uploads: applied position, waiting, quarantined, rejected files. */
  inboxState(): Promise<ClientInboxResponse> {
    return this.json<ClientInboxResponse>('GET', 'v1/inbox', undefined, [200]);
  }

  /** Asks for a fresh extract of this client (a laptop set up again holds none of the current epoch). */
  async requestExtract(): Promise<void> {
    await this.json<unknown>('POST', 'v1/download/extract', undefined, [202, 200, 204]);
  }

  /** This client's changes the server did not apply, newest first. */
  async refusals(): Promise<RefusalView[]> {
    return this.json<RefusalView[]>('GET', 'v1/refusals', undefined, [200]);
  }

  async closeSession(req: CloseSessionRequest): Promise<void> {
    await this.json<unknown>('DELETE', 'v1/sessions/current', req, [204, 200]);
    this.token = null;
  }

  close(): void {
    this.agent.destroy();
  }

  private async json<T>(method: string, path: string, payload: unknown, ok: number[]): Promise<T> {
    const body = payload === undefined ? undefined : Buffer.from(JSON.stringify(payload));
    const res = await this.send(method, path, body, body ? { 'content-type': 'application/json' } : {});
    if (!ok.includes(res.status)) throw this.failure(method, path, res);
    return parseJson<T>(res.body) as T;
  }

  private async send(
    method: string,
    path: string,
    body?: Body,
    headers: http.OutgoingHttpHeaders = {},
  ): Promise<RawResponse> {
    const res = await this.request(method, path, body, headers);
    try {
      return { status: res.statusCode ?? 0, headers: res.headers, body: await readAll(res) };
    } catch (err) {
      throw this.networkError(err, method, path);
    }
  }

  private request(
    method: string,
    path: string,
    body: Body,
    headers: http.OutgoingHttpHeaders,
    retry = true,
  ): Promise<http.IncomingMessage> {
    const url = new URL(path, this.base);
    const all: http.OutgoingHttpHeaders = { accept: 'application/json', ...headers };
    if (this.token) all.authorization = `Bearer ${this.token}`;
    if (this.correlationId) all[CORRELATION_HEADER] = this.correlationId;
    if (Buffer.isBuffer(body)) all['content-length'] = body.length;
    else if (body) all['content-length'] = body.length;
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { method, headers: all, agent: this.agent }, resolve);
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', (err) => {
        // A kept-alive socket the server closed just as this request went out: the request never
        // reached it. Sent again once on a new socket, unless its body was a stream already read.
        if (
          retry &&
          req.reusedSocket &&
          (err as NodeJS.ErrnoException).code === 'ECONNRESET' &&
          !isStream(body)
        ) {
          this.request(method, path, body, headers, false).then(resolve, reject);
          return;
        }
        reject(this.networkError(err, method, path));
      });
      if (Buffer.isBuffer(body)) req.end(body);
      else if (body) {
        body.stream.on('error', (err) => req.destroy(err));
        body.stream.pipe(req);
      } else req.end();
    });
  }

  private networkError(err: unknown, method: string, path: string): Error {
    if (err instanceof AgentError) return err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (UNREACHABLE.has(code)) {
      return new AgentError(
        AgentErrorCode.ServerUnreachable,
        `cannot reach the sync server at ${this.serverUrl}: ${code}`,
        {
          cause: code,
        },
      );
    }
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(code)) {
      return new AgentError(
        AgentErrorCode.ServerUntrusted,
        `the certificate of the sync server at ${this.serverUrl} is not trusted (${code}: ${(err as Error).message}); ` +
          'give the PEM file of the CA that signed it with --ca FILE (or SYNC_AGENT_CA_FILE); nothing was sent',
        { cause: code },
      );
    }
    return new AgentError(
      AgentErrorCode.ServerError,
      `${method} ${this.base.origin}/${path} failed: ${(err as Error).message}${code ? ` (${code})` : ''}`,
      { cause: code },
    );
  }

  private failure(method: string, path: string, res: RawResponse): AgentError {
    const body = parseJson<ErrorBody>(res.body);
    if (body?.error?.code) {
      const { code, message, correlationId, details } = body.error;
      return new AgentError(
        AgentErrorCode.ServerError,
        `${message} (${code}, correlation id ${correlationId ?? 'none'})`,
        {
          status: res.status,
          serverCode: code,
          correlationId,
          ...(details ? { serverDetails: details } : {}),
        },
      );
    }
    return new AgentError(
      AgentErrorCode.ServerError,
      `the sync server answered HTTP ${res.status} to ${method} /${path}${res.body.length ? `: ${res.body.toString('utf8').slice(0, 200)}` : ''}`,
      { status: res.status },
    );
  }
}

function parseJson<T>(body: Buffer): T | null {
  if (body.length === 0) return null;
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    return null;
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
