import { DxWriter, uploadHeaderFor, type DxLimits, type DxUploadTransaction } from '@outpost/dx-format';
import { randomUUID } from 'node:crypto';

export interface UploadFileOptions {
  /** First client transaction seq (default 1). */
  firstSeq?: number;
  /** Number of transactions (default 2). */
  count?: number;
  /** Length of the text value each transaction carries (default a few characters). */
  valueLength?: number;
  /** Columns per transaction (default 1). */
  columns?: number;
  /** Writer limits, to build files the server's smaller limits refuse. */
  limits?: Partial<DxLimits>;
}

/** The bytes of a valid upload DX file: account updates by `jdoe`. */
export async function uploadFile(
  client: string,
  fileSeq: number,
  options: UploadFileOptions = {},
): Promise<Buffer> {
  const { firstSeq = 1, count = 2, valueLength = 0, columns = 1 } = options;
  const header = uploadHeaderFor(client, fileSeq, { firstSeq, count });
  const writer = new DxWriter(header, { limits: options.limits });
  const chunks: Buffer[] = [];
  writer.stream.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => writer.stream.once('end', resolve));
  for (let i = 0; i < count; i++) {
    const changes: Record<string, { old: string; new: string }> = {};
    for (let c = 0; c < columns; c++) {
      changes[c === 0 ? 'name' : `col_${c}`] = { old: 'A', new: `B${i}-${'x'.repeat(valueLength)}` };
    }
    const tx: DxUploadTransaction = {
      seq: firstSeq + i,
      at: new Date().toISOString(),
      user: 'jdoe',
      table: 'account',
      id: randomUUID(),
      op: 'update',
      base: 1,
      changes,
    };
    await writer.write(tx);
  }
  await writer.end();
  await ended;
  return Buffer.concat(chunks);
}
