import fc from 'fast-check';
import { readAll, trickle, writeToBuffer } from './testing/fixtures';
import { DxDirection, DxHeader, DxTransaction, DxValue } from './types';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_DATE = new Date('0001-01-01T00:00:00.000Z');
const MAX_DATE = new Date('9999-12-31T23:59:59.999Z');

const anyDate = fc.date({ min: MIN_DATE, max: MAX_DATE, noInvalidDate: true });
const digits = (max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: max });

const decimal = fc
  .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 40n }), fc.option(digits(30), { nil: undefined }))
  .map(([negative, whole, fraction]) => ({
    $dec: `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`,
  }));
const bigInt = fc
  .oneof(
    fc.bigInt({ min: MAX_SAFE + 1n, max: 2n ** 200n }),
    fc.bigInt({ min: -(2n ** 200n), max: -MAX_SAFE - 1n }),
  )
  .map((n) => ({ $int: n.toString() }));
const timestamp = fc
  .tuple(anyDate, fc.constantFrom('', '123', '000'))
  .map(([d, micros]) => ({ $ts: d.toISOString().replace('Z', `${micros}Z`) }));

const value: fc.Arbitrary<DxValue> = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constant(''),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  decimal,
  bigInt,
  anyDate.map((d) => ({ $date: d.toISOString().slice(0, 10) })),
  timestamp,
  fc.jsonValue({ stringUnit: 'binary', maxDepth: 4 }).map(($json) => ({ $json })),
);

const column = fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/);
const row = fc.dictionary(column, value, { maxKeys: 12 });
const base = fc.option(fc.nat(), { nil: null });
const common = {
  at: anyDate.map((d) => d.toISOString()),
  user: fc.string({ unit: 'grapheme', maxLength: 20 }),
  table: fc.stringMatching(/^[a-z_][a-z0-9_]{0,30}$/),
  id: fc.uuid(),
};

type Body = Omit<DxTransaction, 'seq'>;
const uploadBody: fc.Arbitrary<Body> = fc.oneof(
  fc.record({ ...common, op: fc.constant('insert' as const), row }),
  fc.record({
    ...common,
    op: fc.constant('update' as const),
    base,
    changes: fc.dictionary(column, fc.record({ old: value, new: value }), { maxKeys: 6 }),
  }),
  fc.record({ ...common, op: fc.constant('delete' as const), base }),
);
const downloadBody: fc.Arbitrary<Body> = fc.oneof(
  uploadBody,
  fc.record({ ...common, op: fc.constant('upsert' as const), version: fc.nat(), row }),
  fc.record({ ...common, op: fc.constant('evict' as const) }),
  fc.record({
    at: common.at,
    user: common.user,
    table: fc.constant(''),
    id: fc.constant(''),
    op: fc.constant('confirm' as const),
    upTo: fc.nat(),
  }),
);

/** A header and transactions that agree with it: contiguous seqs for uploads, increasing with gaps for downloads. */
function file(direction: DxDirection, bodies: fc.Arbitrary<Body[]>) {
  return fc
    .tuple(
      bodies,
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 200, maxLength: 200 }),
    )
    .map(([items, first, steps]) => {
      let seq = first;
      const txs = items.map((body, i) => {
        if (i > 0) seq += direction === 'upload' ? 1 : steps[i % steps.length];
        return { seq, ...body } as DxTransaction;
      });
      const header: DxHeader = {
        format: 'outpost-dx',
        version: 1,
        client: 'laptop-9',
        fileSeq: 12,
        direction,
        firstSeq: txs.length ? first : 0,
        lastSeq: txs.length ? seq : 0,
        count: txs.length,
        createdAt: '2024-05-01T08:00:00.000Z',
        ...(direction === 'download' ? { kind: 'changes' as const, epoch: 3 } : {}),
      };
      return { header, txs };
    });
}

/** What a reader must return: the values as JSON carries them (-0 becomes 0; nothing else changes). */
const asJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('writer -> reader round trip', () => {
  it('returns every upload transaction unchanged, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        file('upload', fc.array(uploadBody, { maxLength: 40 })),
        fc.integer({ min: 1, max: 5000 }),
        async ({ header, txs }, chunk) => {
          const written = await writeToBuffer(header, txs);
          const read = await readAll(trickle(written.file, chunk));
          expect(read.header).toEqual(header);
          expect(read.transactions).toEqual(asJson(txs));
          expect(read.summary).toMatchObject({
            count: txs.length,
            sha256: written.sha256,
            bytes: written.bytes,
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('returns every download transaction unchanged, including empty files', async () => {
    await fc.assert(
      fc.asyncProperty(
        file('download', fc.array(downloadBody, { maxLength: 40 })),
        async ({ header, txs }) => {
          const written = await writeToBuffer(header, txs);
          const read = await readAll(written.file);
          expect(read.header).toEqual(header);
          expect(read.transactions).toEqual(asJson(txs));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('carries values of about a megabyte', async () => {
    const large = fc.record({
      big: fc.string({ unit: 'binary', minLength: 250_000, maxLength: 300_000 }),
      note: value,
    });
    const bodies = fc.array(fc.record({ ...common, op: fc.constant('insert' as const), row: large }), {
      minLength: 1,
      maxLength: 3,
    });
    await fc.assert(
      fc.asyncProperty(file('upload', bodies), async ({ header, txs }) => {
        const read = await readAll((await writeToBuffer(header, txs)).file);
        expect(read.transactions).toEqual(asJson(txs));
      }),
      { numRuns: 5 },
    );
    // Five files of up to a megabyte each: seconds of CPU that a loaded machine may stretch.
  }, 60_000);
});
