import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DxFormatError } from './errors';
import { readDxFile, validateDx } from './reader';
import { readAll, rejection, writeToBuffer } from './testing/fixtures';
import { DxHeader, DxTransaction } from './types';

const VECTORS = join(__dirname, '..', 'test-vectors');

function vectors(kind: 'valid' | 'invalid'): string[] {
  return readdirSync(join(VECTORS, kind))
    .filter((f) => f.endsWith('.dx'))
    .map((f) => f.slice(0, -'.dx'.length));
}

function expected<T>(kind: 'valid' | 'invalid', name: string): T {
  return JSON.parse(readFileSync(join(VECTORS, kind, `${name}.expected.json`), 'utf8')) as T;
}

describe('golden test vectors', () => {
  it('has the vectors the spec promises', () => {
    expect(vectors('valid')).toEqual(
      expect.arrayContaining([
        'upload-basic',
        'download-empty-extract',
        'download-changes',
        'upload-schema-version',
      ]),
    );
    expect(vectors('invalid').length).toBeGreaterThanOrEqual(20);
  });

  describe.each(vectors('valid'))('valid/%s.dx', (name) => {
    const path = join(VECTORS, 'valid', `${name}.dx`);
    const want = expected<{ header: DxHeader; transactions: DxTransaction[] }>('valid', name);

    it('decodes to the expected header and transactions', async () => {
      const reader = readDxFile(path);
      const header = await reader.header();
      const transactions: DxTransaction[] = [];
      for await (const tx of reader) transactions.push(tx);
      expect(header).toEqual(want.header);
      expect(transactions).toEqual(want.transactions);
    });

    it('validates, reporting the sha256 and size of the file bytes', async () => {
      const file = readFileSync(path);
      const summary = await validateDx(createReadStream(path));
      expect(summary).toMatchObject({
        count: want.transactions.length,
        bytes: file.length,
        sha256: createHash('sha256').update(file).digest('hex'),
      });
    });

    it('is reproduced byte for byte (uncompressed) by the writer', async () => {
      const { file } = await writeToBuffer(want.header, want.transactions);
      expect(gunzipSync(file).toString('utf8')).toBe(gunzipSync(readFileSync(path)).toString('utf8'));
      expect((await readAll(file)).transactions).toEqual(want.transactions);
    });
  });

  describe.each(vectors('invalid'))('invalid/%s.dx', (name) => {
    it('is refused with the expected code and transaction index', async () => {
      const want = expected<{ code: string; txIndex?: number }>('invalid', name);
      const error = await rejection(validateDx(createReadStream(join(VECTORS, 'invalid', `${name}.dx`))));
      expect(error).toBeInstanceOf(DxFormatError);
      expect({ code: error.code, txIndex: error.txIndex }).toEqual({
        code: want.code,
        txIndex: want.txIndex,
      });
    });
  });
});
