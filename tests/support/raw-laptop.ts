import { createHash } from 'node:crypto';
import type { OpenSessionResponse } from '@outpost/contracts';
import { DxWriter, uploadHeaderFor, type DxUploadTransaction } from '@outpost/dx-format';

/** The bytes of an upload file, built in memory. */
export async function uploadFileBytes(
  client: string,
  fileSeq: number,
  txs: DxUploadTransaction[],
): Promise<Buffer> {
  const writer = new DxWriter(uploadHeaderFor(client, fileSeq, txs));
  const chunks: Buffer[] = [];
  writer.stream.on('data', (c: Buffer) => chunks.push(c));
  for (const tx of txs) await writer.write(tx);
  await writer.end();
  return Buffer.concat(chunks);
}

/**
 * A laptop that speaks the agent API by hand, for hostile cases the real agent would never write:
 * any user, table, id or operation in a well-formed file.
 */
export class RawLaptop {
  private token: string | null = null;

  constructor(
    private readonly gatewayUrl: string,
    readonly client: string,
    private readonly secret: string,
  ) {}

  async open(): Promise<OpenSessionResponse> {
    const res = await fetch(`${this.gatewayUrl}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client: this.client,
        secret: this.secret,
        agentVersion: 'test',
        formatVersion: 1,
      }),
    });
    if (res.status !== 201) throw new Error(`session for ${this.client}: ${res.status} ${await res.text()}`);
    const session = (await res.json()) as OpenSessionResponse;
    this.token = session.token;
    return session;
  }

  /** Uploads one file of these transactions; returns the HTTP status. */
  async upload(fileSeq: number, txs: DxUploadTransaction[]): Promise<number> {
    const body = await uploadFileBytes(this.client, fileSeq, txs);
    const res = await fetch(`${this.gatewayUrl}/v1/upload/${fileSeq}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${await this.bearer()}`,
        'content-type': 'application/octet-stream',
        'x-dx-sha256': createHash('sha256').update(body).digest('hex'),
      },
      body,
    });
    await res.text();
    return res.status;
  }

  async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.gatewayUrl}${path}`, {
      headers: { authorization: `Bearer ${await this.bearer()}` },
    });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  private async bearer(): Promise<string> {
    if (this.token === null) await this.open();
    return this.token as string;
  }
}
