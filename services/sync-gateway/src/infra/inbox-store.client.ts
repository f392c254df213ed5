import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import {
  CORRELATION_HEADER,
  ErrorCode,
  patterns,
  type ErrorBody,
  type InboxFileView,
} from '@outpost/contracts';
import { callRpc, DomainError, isErrorCode, rpcCredentials } from '@outpost/server-kit';
import { request, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { GatewayConfig } from '../config';
import { GATEWAY_CONFIG, INBOX_STORE_RPC } from './infra.tokens';

export interface HeldFile {
  objectKey: string;
  sha256: string;
  size: number;
}
export type StageResult =
  { status: 'staged'; uploadId: string; sha256: string; size: number } | ({ status: 'duplicate' } & HeldFile);
export type CommitResult = ({ status: 'stored' } & HeldFile) | ({ status: 'duplicate' } & HeldFile);

export interface TxnRange {
  txnCount: number;
  firstSeq: number;
  lastSeq: number;
}

/** The inbox-store: its internal HTTP byte path and its RMQ admin patterns. */
@Injectable()
export class InboxStoreClient {
  private readonly base: URL;
  private readonly authorization: string;
  private readonly rpcHeaders: Record<string, string>;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(INBOX_STORE_RPC) private readonly rpc: ClientProxy,
  ) {
    this.base = new URL(config.inboxStoreUrl);
    this.authorization = `Bearer ${config.internalToken}`;
    this.rpcHeaders = rpcCredentials(config.internalToken);
  }

  /** Streams `body` into a staging object; nothing is registered until commit(). */
  async stage(
    client: string,
    fileSeq: number,
    sha256: string,
    body: Readable,
    correlationId: string,
  ): Promise<StageResult> {
    const res = await this.send('PUT', this.inboxPath(client, fileSeq), correlationId, {
      headers: {
        'content-type': 'application/octet-stream',
        'x-dx-sha256': sha256,
        'x-dx-validate': 'pending',
      },
      body,
    });
    return (await readJson(res, correlationId)) as StageResult;
  }

  async commit(
    client: string,
    fileSeq: number,
    uploadId: string,
    sha256: string,
    range: TxnRange,
    correlationId: string,
  ): Promise<CommitResult> {
    const json = Buffer.from(JSON.stringify({ uploadId, sha256, ...range }));
    const res = await this.send('POST', `${this.inboxPath(client, fileSeq)}/commit`, correlationId, {
      headers: { 'content-type': 'application/json', 'content-length': String(json.length) },
      body: json,
    });
    return (await readJson(res, correlationId)) as CommitResult;
  }

  async discard(client: string, fileSeq: number, uploadId: string, correlationId: string): Promise<void> {
    const res = await this.send(
      'DELETE',
      `${this.inboxPath(client, fileSeq)}/staged/${encodeURIComponent(uploadId)}`,
      correlationId,
    );
    await readJson(res, correlationId);
  }

  /** Asks the inbox-store to announce a held file again; it does so once per file at most. */
  async reannounce(client: string, fileSeq: number, correlationId: string): Promise<{ announced: boolean }> {
    const res = await this.send('POST', `${this.inboxPath(client, fileSeq)}/reannounce`, correlationId);
    return (await readJson(res, correlationId)) as { announced: boolean };
  }

  /** How many of the file's first bytes the inbox-store holds as parts (all once the file is held). */
  async partsReceived(
    client: string,
    fileSeq: number,
    sha256: string,
    correlationId: string,
  ): Promise<number> {
    const res = await this.send('GET', this.partsPath(client, fileSeq, sha256), correlationId);
    return ((await readJson(res, correlationId)) as { receivedBytes: number }).receivedBytes;
  }

  /** Streams one part at `offset`; resolves with the bytes held after it. */
  async putPart(
    client: string,
    fileSeq: number,
    sha256: string,
    offset: number,
    partBytes: number,
    body: Readable,
    correlationId: string,
  ): Promise<number> {
    const res = await this.send(
      'PUT',
      `${this.partsPath(client, fileSeq, sha256)}/${offset}`,
      correlationId,
      {
        headers: { 'content-type': 'application/octet-stream', 'x-dx-part-bytes': String(partBytes) },
        body,
      },
    );
    return ((await readJson(res, correlationId)) as { receivedBytes: number }).receivedBytes;
  }

  /** The held parts as one stream; a refusal comes back as the DomainError it was. */
  async openParts(
    client: string,
    fileSeq: number,
    sha256: string,
    correlationId: string,
  ): Promise<IncomingMessage> {
    const res = await this.send('GET', `${this.partsPath(client, fileSeq, sha256)}/content`, correlationId);
    if (res.statusCode !== 200) await readJson(res, correlationId);
    return res;
  }

  async removeParts(client: string, fileSeq: number, correlationId: string): Promise<void> {
    const res = await this.send('DELETE', `${this.inboxPath(client, fileSeq)}/parts`, correlationId);
    await readJson(res, correlationId);
  }

  /** The file held under (client, fileSeq), or null. */
  async head(client: string, fileSeq: number, correlationId: string): Promise<HeldFile | null> {
    const res = await this.send('HEAD', this.inboxPath(client, fileSeq), correlationId);
    res.resume();
    if (res.statusCode === 404) return null;
    if (res.statusCode !== 200) throw unavailable(`HEAD answered ${res.statusCode}`, correlationId);
    return {
      sha256: String(res.headers['x-dx-sha256']),
      size: Number(res.headers['x-dx-size']),
      objectKey: String(res.headers['x-dx-object-key']),
    };
  }

  /** The outbound file's response, unread: status, headers and body go straight to the agent. */
  openOutbound(
    client: string,
    epoch: number,
    fileSeq: number,
    range: string | undefined,
    correlationId: string,
  ): Promise<IncomingMessage> {
    const path = `/internal/outbox/${encodeURIComponent(client)}/${epoch}/${fileSeq}`;
    return this.send('GET', path, correlationId, { headers: range ? { range } : {} });
  }

  list(client: string, correlationId: string): Promise<InboxFileView[]> {
    return callRpc(this.rpc, patterns.inboxList, { client }, correlationId, { headers: this.rpcHeaders });
  }

  retry(client: string, fileSeq: number, correlationId: string): Promise<InboxFileView> {
    return callRpc(this.rpc, patterns.inboxRetry, { client, fileSeq }, correlationId, {
      headers: this.rpcHeaders,
    });
  }

  reject(client: string, fileSeq: number, reason: string, correlationId: string): Promise<InboxFileView> {
    return callRpc(this.rpc, patterns.inboxReject, { client, fileSeq, reason }, correlationId, {
      headers: this.rpcHeaders,
    });
  }

  private inboxPath(client: string, fileSeq: number): string {
    return `/internal/inbox/${encodeURIComponent(client)}/${fileSeq}`;
  }

  private partsPath(client: string, fileSeq: number, sha256: string): string {
    return `${this.inboxPath(client, fileSeq)}/parts/${sha256}`;
  }

  /**
   * Resolves with the response as soon as it arrives, even if the inbox-store answers before the
   * whole body is sent (a duplicate or a taken seq): later write errors are then irrelevant.
   */
  private send(
    method: string,
    path: string,
    correlationId: string,
    opts: { headers?: Record<string, string>; body?: Readable | Buffer } = {},
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = request(
        new URL(path, this.base),
        {
          method,
          headers: {
            ...opts.headers,
            authorization: this.authorization,
            [CORRELATION_HEADER]: correlationId,
          },
        },
        (res) => {
          answered = true;
          resolve(res);
        },
      );
      req.on('error', (err) => {
        if (!answered) reject(unavailable(`${method} ${path} failed: ${err.message}`, correlationId));
      });
      const body = opts.body;
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      }
    });
  }
}

function unavailable(what: string, correlationId: string): DomainError {
  return new DomainError(
    ErrorCode.DependencyUnavailable,
    `inbox-store unavailable: ${what}`,
    undefined,
    correlationId,
  );
}

/** A 2xx JSON body, or the inbox-store's error turned back into the DomainError it was. */
async function readJson(res: IncomingMessage, correlationId: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const status = res.statusCode ?? 500;
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // A non-JSON body is reported below with its status.
  }
  if (status >= 200 && status < 300) return json;
  const error = (json as ErrorBody | undefined)?.error;
  if (error && isErrorCode(error.code))
    throw new DomainError(error.code, error.message, error.details, correlationId);
  throw unavailable(`answered ${status}`, correlationId);
}
