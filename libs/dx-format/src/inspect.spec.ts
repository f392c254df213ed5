import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { DxErrorCode } from './errors';
import { inspectDx } from './inspect';
import { DxHeader, DxTransaction } from './types';
import { writeDxFile } from './writer';

const VECTORS = join(__dirname, '..', 'test-vectors');

async function inspect(path: string, json: boolean): Promise<{ output: string; error?: unknown }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  let error: unknown;
  try {
    await inspectDx(path, out, { json });
  } catch (caught) {
    error = caught;
  }
  return { output: Buffer.concat(chunks).toString('utf8'), error };
}

describe('inspectDx', () => {
  it('prints the header fields, one line per transaction and a verified summary', async () => {
    const { output, error } = await inspect(join(VECTORS, 'valid', 'download-changes.dx'), false);
    expect(error).toBeUndefined();
    const lines = output.trimEnd().split('\n');
    expect(lines.slice(0, 9)).toEqual([
      'format     outpost-dx v1',
      'client     laptop-alice',
      'direction  download',
      'fileSeq    3',
      'kind       changes',
      'epoch      1',
      'seq        100..232',
      'count      6',
      'createdAt  2024-05-01T08:00:00.000Z',
    ]);
    expect(lines.slice(10, 16)).toEqual([
      '#100 2024-05-01T07:00:00.000Z bob upsert account 0b6f3c1e-8a2d-4c5e-9f10-1a2b3c4d5e6f version=4 id="0b6f3c1e-8a2d-4c5e-9f10-1a2b3c4d5e6f" name="Acme" revenue=99.90 updated=2024-05-01T07:00:00Z',
      '#105 2024-05-01T07:01:00.000Z bob evict opportunity 5d41402a-bc4b-4a76-b971-9d911017c592',
      '#106 2024-05-01T07:02:00.000Z - confirm upTo=45',
      '#230 2024-04-30T09:00:00.000Z alice insert opportunity_team 9b2d6a4e-3f1c-4b8a-8e7d-6c5b4a392817 id="9b2d6a4e-3f1c-4b8a-8e7d-6c5b4a392817" opportunity_id="5d41402a-bc4b-4a76-b971-9d911017c592" user_login="alice"',
      '#231 2024-05-01T07:03:00.000Z carol update contact 7c9e6679-7425-40de-944b-e07fc1f90ae7 base=8 email: "a@example.com" -> "b@example.com"',
      '#232 2024-05-01T07:04:00.000Z - delete contact f47ac10b-58cc-4372-a567-0e02b2c3d479 base=2',
    ]);
    expect(lines[16]).toMatch(/^-- 6 transactions, checksum verified; file \d+ bytes, sha256 [0-9a-f]{64}$/);
  });

  it('prints typed values distinguishably in the human form', async () => {
    const { output } = await inspect(join(VECTORS, 'valid', 'upload-basic.dx'), false);
    expect(output).toContain('revenue=1250000.00 ');
    expect(output).toContain('founded=1999-12-31 ');
    expect(output).toContain('counter=12345678901234567890 ');
    expect(output).toContain('doc_scalar=json:"just a string" ');
    expect(output).toContain('revenue: 1250000.00 -> -12.50');
    expect(output).toContain('name="Zürich Ünïcødé — 東京 😀 𝄞"');
  });

  it('prints JSON lines in --json form: the header, then each transaction', async () => {
    const { output, error } = await inspect(join(VECTORS, 'valid', 'upload-basic.dx'), true);
    expect(error).toBeUndefined();
    const expected = JSON.parse(
      readFileSync(join(VECTORS, 'valid', 'upload-basic.expected.json'), 'utf8'),
    ) as { header: DxHeader; transactions: DxTransaction[] };
    const lines = output
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(lines).toEqual([expected.header, ...expected.transactions]);
  });

  it('prints an empty extract', async () => {
    const { output } = await inspect(join(VECTORS, 'valid', 'download-empty-extract.dx'), false);
    expect(output).toContain('kind       extract\n');
    expect(output).toContain('seq        (none)\n');
    expect(output).toMatch(/-- 0 transactions, checksum verified/);
  });

  it('throws the DxFormatError of an invalid file after printing what came before it', async () => {
    const { output, error } = await inspect(join(VECTORS, 'invalid', 'seq-gap-upload.dx'), true);
    expect(error).toMatchObject({ code: DxErrorCode.SeqGap, txIndex: 1 });
    expect(output.trimEnd().split('\n')).toHaveLength(2);
  });

  it('handles a consumer that applies backpressure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dx-inspect-'));
    try {
      const n = 5000;
      const path = join(dir, 'big.dx');
      const txs = Array.from({ length: n }, (_, i): DxTransaction => ({
        seq: i + 1,
        at: '2024-04-30T09:00:00.000Z',
        user: 'alice',
        table: 'contact',
        id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
        op: 'delete',
        base: i,
      }));
      const header: DxHeader = {
        format: 'outpost-dx',
        version: 1,
        client: 'laptop-1',
        fileSeq: 1,
        direction: 'upload',
        firstSeq: 1,
        lastSeq: n,
        count: n,
        createdAt: '2024-05-01T08:00:00.000Z',
      };
      await writeDxFile(path, header, txs);
      let lines = 0;
      let drains = 0;
      const out = new Writable({
        highWaterMark: 1024,
        write(chunk: Buffer, _encoding, callback) {
          lines += chunk.toString().split('\n').length - 1;
          setImmediate(callback);
        },
      });
      out.on('drain', () => drains++);
      await inspectDx(path, out, { json: false });
      await new Promise((resolve) => out.end(resolve));
      expect(lines).toBe(8 + n + 1);
      expect(drains).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
