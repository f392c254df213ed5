#!/usr/bin/env node
// @ts-check
/* global console */
/*
 * Regenerates libs/dx-format/test-vectors/. Run from anywhere: `node libs/dx-format/scripts/make-test-vectors.mjs`.
 *
 * The files are built here with zlib and crypto directly, not with the library's writer, so the reader is
 * tested against an independent encoding of the README's spec. Output is deterministic: rerunning it must
 * leave the committed files unchanged.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gzipSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-vectors');
const CREATED = '2024-05-01T08:00:00.000Z';
const MiB = 1024 * 1024;

const ID = {
  account: '0b6f3c1e-8a2d-4c5e-9f10-1a2b3c4d5e6f',
  opportunity: '5d41402a-bc4b-4a76-b971-9d911017c592',
  contact1: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  contact2: 'f47ac10b-58cc-4372-a567-0e02b2c3d479',
  team: '9b2d6a4e-3f1c-4b8a-8e7d-6c5b4a392817',
};

/** Header keys in the canonical order writers emit. */
function header(fields) {
  const h = {
    format: 'outpost-dx',
    version: 1,
    client: 'laptop-alice',
    fileSeq: 7,
    direction: 'upload',
    firstSeq: 1,
    lastSeq: 1,
    count: 1,
    createdAt: CREATED,
    ...fields,
  };
  const ordered = {};
  for (const key of [
    'format',
    'version',
    'client',
    'fileSeq',
    'direction',
    'firstSeq',
    'lastSeq',
    'count',
    'createdAt',
    'kind',
    'epoch',
    'schemaVersion',
  ]) {
    if (key in h) ordered[key] = h[key];
  }
  for (const key of Object.keys(h)) if (!(key in ordered)) ordered[key] = h[key];
  return ordered;
}

/** The uncompressed content: lines (objects are JSON-encoded, strings and bytes used as they are), then a trailer. */
function content(lines, { trailer = {}, withTrailer = true } = {}) {
  const encode = (l) =>
    Buffer.isBuffer(l) ? l : Buffer.from(typeof l === 'string' ? l : JSON.stringify(l), 'utf8');
  const body = Buffer.concat(lines.flatMap((l) => [encode(l), Buffer.from('\n')]));
  if (!withTrailer) return body;
  const t = {
    trailer: true,
    count: lines.length - 1,
    sha256: createHash('sha256').update(body).digest('hex'),
    ...trailer,
  };
  return Buffer.concat([body, Buffer.from(JSON.stringify(t) + '\n')]);
}

const gzip = (buf) => gzipSync(buf, { level: 6 });

function insert(seq, table, id, row, extra = {}) {
  return { seq, at: '2024-04-30T09:00:00.000Z', user: 'alice', table, id, op: 'insert', row, ...extra };
}

const allTypesRow = {
  id: ID.account,
  name: 'Zürich Ünïcødé — 東京 😀 𝄞',
  revenue: { $dec: '1250000.00' },
  small: { $dec: '-0.001' },
  precise: { $dec: '123456789012345678901234567890.123456789' },
  employees: 42,
  rating: 4.5,
  active: true,
  archived: false,
  notes: null,
  empty: '',
  founded: { $date: '1999-12-31' },
  leap: { $date: '2024-02-29' },
  last_contact: { $ts: '2024-04-30T22:15:07.123456Z' },
  created: { $ts: '2024-04-30T22:15:07Z' },
  counter: { $int: '12345678901234567890' },
  negative_counter: { $int: '-9007199254740993' },
  doc: { $json: { labels: ['a', 'ü', '😀'], nested: { n: 1.5, flag: false, none: null }, list: [] } },
  doc_scalar: { $json: 'just a string' },
  escapes: 'line1\nline2\t"quoted" \\ \u0001',
};

const uploadTxs = [
  insert(41, 'account', ID.account, allTypesRow),
  {
    seq: 42,
    at: '2024-04-30T09:05:00.000Z',
    user: 'alice',
    table: 'account',
    id: ID.account,
    op: 'update',
    base: null,
    changes: {
      name: { old: 'Zürich Ünïcødé — 東京 😀 𝄞', new: 'Acme 🚀' },
      revenue: { old: { $dec: '1250000.00' }, new: { $dec: '-12.50' } },
    },
  },
  {
    seq: 43,
    at: '2024-04-30T09:06:00.5Z',
    user: 'alice',
    table: 'opportunity',
    id: ID.opportunity,
    op: 'update',
    base: 3,
    changes: {
      stage: { old: 'prospect', new: 'closed' },
      close_date: { old: null, new: { $date: '2024-06-30' } },
    },
  },
  {
    seq: 44,
    at: '2024-04-30T09:07:00.000Z',
    user: 'alice',
    table: 'contact',
    id: ID.contact1,
    op: 'delete',
    base: 7,
  },
  {
    seq: 45,
    at: '2024-04-30T09:08:00.000Z',
    user: 'alice',
    table: 'contact',
    id: ID.contact2,
    op: 'delete',
    base: null,
  },
];
const uploadHeader = header({ fileSeq: 7, firstSeq: 41, lastSeq: 45, count: 5 });

const downloadTxs = [
  {
    seq: 100,
    at: '2024-05-01T07:00:00.000Z',
    user: 'bob',
    table: 'account',
    id: ID.account,
    op: 'upsert',
    version: 4,
    row: {
      id: ID.account,
      name: 'Acme',
      revenue: { $dec: '99.90' },
      updated: { $ts: '2024-05-01T07:00:00Z' },
    },
  },
  {
    seq: 105,
    at: '2024-05-01T07:01:00.000Z',
    user: 'bob',
    table: 'opportunity',
    id: ID.opportunity,
    op: 'evict',
  },
  { seq: 106, at: '2024-05-01T07:02:00.000Z', user: '', table: '', id: '', op: 'confirm', upTo: 45 },
  insert(230, 'opportunity_team', ID.team, {
    id: ID.team,
    opportunity_id: ID.opportunity,
    user_login: 'alice',
  }),
  {
    seq: 231,
    at: '2024-05-01T07:03:00.000Z',
    user: 'carol',
    table: 'contact',
    id: ID.contact1,
    op: 'update',
    base: 8,
    changes: { email: { old: 'a@example.com', new: 'b@example.com' } },
  },
  {
    seq: 232,
    at: '2024-05-01T07:04:00.000Z',
    user: '',
    table: 'contact',
    id: ID.contact2,
    op: 'delete',
    base: 2,
  },
];
const downloadHeader = header({
  client: 'laptop-alice',
  fileSeq: 3,
  direction: 'download',
  firstSeq: 100,
  lastSeq: 232,
  count: 6,
  kind: 'changes',
  epoch: 1,
});

const valid = {
  'upload-basic': { header: uploadHeader, transactions: uploadTxs },
  'download-empty-extract': {
    header: header({
      fileSeq: 1,
      direction: 'download',
      firstSeq: 0,
      lastSeq: 0,
      count: 0,
      kind: 'extract',
      epoch: 2,
    }),
    transactions: [],
  },
  'download-changes': { header: downloadHeader, transactions: downloadTxs },
  // Written under schema version 3: the insert lacks a column a later version added; readers keep the header field.
  'upload-schema-version': {
    header: header({ fileSeq: 8, firstSeq: 46, lastSeq: 46, count: 1, schemaVersion: 3 }),
    transactions: [insert(46, 'account', ID.account, { id: ID.account, name: 'Acme' })],
  },
};

const uploadFile = gzip(content([uploadHeader, ...uploadTxs]));
const h3 = header({ firstSeq: 1, lastSeq: 3, count: 3 });
const tx = (seq, extra = {}) => ({
  seq,
  at: '2024-04-30T09:00:00.000Z',
  user: 'alice',
  table: 'contact',
  id: ID.contact1,
  op: 'delete',
  base: 1,
  ...extra,
});

/** A bomb that is still a plausible file: valid lines of 15 MiB each, so only the size/ratio limits stop it. */
function bomb() {
  const lines = [header({ firstSeq: 1, lastSeq: 6, count: 6 })];
  const blob = 'a'.repeat(15 * MiB);
  for (let seq = 1; seq <= 6; seq++) lines.push(insert(seq, 'account', ID.account, { blob }));
  return gzipSync(content(lines), { level: 9, memLevel: 9, strategy: constants.Z_DEFAULT_STRATEGY });
}

function corruptCrc(file) {
  const copy = Buffer.from(file);
  copy[copy.length - 8] ^= 0xff;
  return copy;
}

/** name -> [file bytes, expected error] */
const invalid = {
  'empty-file': [Buffer.alloc(0), { code: 'TRUNCATED' }],
  'truncated-gzip': [uploadFile.subarray(0, Math.floor(uploadFile.length / 2)), { code: 'TRUNCATED' }],
  'truncated-no-trailer': [
    gzip(content([uploadHeader, ...uploadTxs], { withTrailer: false })),
    { code: 'TRUNCATED' },
  ],
  'not-gzip': [content([uploadHeader, ...uploadTxs]), { code: 'BAD_GZIP' }],
  'corrupt-gzip-crc': [corruptCrc(uploadFile), { code: 'BAD_GZIP' }],
  'bad-checksum': [
    gzip(content([uploadHeader, ...uploadTxs], { trailer: { sha256: '0'.repeat(64) } })),
    { code: 'BAD_CHECKSUM' },
  ],
  'unsupported-version': [gzip(content([header({ version: 2 }), tx(1)])), { code: 'UNSUPPORTED_VERSION' }],
  'unknown-format': [gzip(content([header({ format: 'other-dx' }), tx(1)])), { code: 'UNKNOWN_FORMAT' }],
  'header-not-json': [gzip(content(['seq,at,user', tx(1)])), { code: 'UNKNOWN_FORMAT' }],
  'download-missing-epoch': [
    gzip(content([header({ direction: 'download', kind: 'changes' }), tx(1)])),
    { code: 'MISSING_FIELD' },
  ],
  'malformed-json': [
    gzip(content([h3, tx(1), '{"seq":2,"at":', tx(3)])),
    { code: 'MALFORMED_JSON', txIndex: 1 },
  ],
  'invalid-utf8': [
    gzip(
      content([
        header(),
        Buffer.from(JSON.stringify(tx(1, { user: '@@' })).replace('@@', '\xff\xfe'), 'latin1'),
      ]),
    ),
    { code: 'MALFORMED_JSON', txIndex: 0 },
  ],
  'missing-field': [
    gzip(content([h3, tx(1), { ...tx(2), at: undefined }, tx(3)])),
    { code: 'MISSING_FIELD', txIndex: 1 },
  ],
  'unknown-field': [
    gzip(content([h3, tx(1), tx(2), tx(3, { note: 'x' })])),
    { code: 'INVALID_FIELD', txIndex: 2 },
  ],
  'uppercase-uuid': [
    gzip(content([header(), tx(1, { id: ID.contact1.toUpperCase() })])),
    { code: 'INVALID_FIELD', txIndex: 0 },
  ],
  'seq-backwards': [
    gzip(
      content([
        header({ direction: 'download', firstSeq: 10, lastSeq: 20, count: 3, kind: 'changes', epoch: 1 }),
        tx(10),
        tx(20),
        tx(15),
      ]),
    ),
    { code: 'SEQ_BACKWARDS', txIndex: 2 },
  ],
  'seq-gap-upload': [gzip(content([h3, tx(1), tx(3), tx(4)])), { code: 'SEQ_GAP', txIndex: 1 }],
  'first-seq-mismatch': [gzip(content([h3, tx(2), tx(3), tx(4)])), { code: 'HEADER_MISMATCH', txIndex: 0 }],
  'count-mismatch': [gzip(content([h3, tx(1), tx(2)])), { code: 'COUNT_MISMATCH' }],
  'trailer-count-mismatch': [
    gzip(content([h3, tx(1), tx(2), tx(3)], { trailer: { count: 4 } })),
    { code: 'COUNT_MISMATCH' },
  ],
  'bad-decimal': [
    gzip(content([header(), insert(1, 'account', ID.account, { revenue: { $dec: '12,50' } })])),
    { code: 'INVALID_VALUE', txIndex: 0 },
  ],
  'bad-date': [
    gzip(content([header(), insert(1, 'account', ID.account, { founded: { $date: '2023-02-29' } })])),
    { code: 'INVALID_VALUE', txIndex: 0 },
  ],
  'upload-upsert': [
    gzip(content([header(), { ...tx(1), op: 'upsert', base: undefined, version: 1, row: {} }])),
    { code: 'BAD_OPERATION', txIndex: 0 },
  ],
  'unknown-op': [gzip(content([header(), tx(1, { op: 'merge' })])), { code: 'BAD_OPERATION', txIndex: 0 }],
  'trailing-data': [
    gzip(Buffer.concat([content([header(), tx(1)]), Buffer.from(JSON.stringify(tx(2)) + '\n')])),
    { code: 'TRAILING_DATA' },
  ],
  'line-too-long': [
    gzip(content([header(), insert(1, 'account', ID.account, { notes: 'x'.repeat(17 * MiB) })])),
    { code: 'LINE_TOO_LONG', txIndex: 0 },
  ],
  'bad-schema-version': [gzip(content([header({ schemaVersion: 0 }), tx(1)])), { code: 'INVALID_FIELD' }],
  'gzip-bomb': [bomb(), { code: 'TOO_LARGE' }],
};

function writeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

const validDir = writeDir(join(ROOT, 'valid'));
for (const [name, { header: h, transactions }] of Object.entries(valid)) {
  writeFileSync(join(validDir, `${name}.dx`), gzip(content([h, ...transactions])));
  writeFileSync(
    join(validDir, `${name}.expected.json`),
    JSON.stringify({ header: h, transactions }, null, 2) + '\n',
  );
}
const invalidDir = writeDir(join(ROOT, 'invalid'));
for (const [name, [bytes, expected]] of Object.entries(invalid)) {
  writeFileSync(join(invalidDir, `${name}.dx`), bytes);
  writeFileSync(join(invalidDir, `${name}.expected.json`), JSON.stringify(expected) + '\n');
}
const written = readdirSync(invalidDir)
  .concat(readdirSync(validDir))
  .filter((f) => f.endsWith('.dx')).length;
console.log(`wrote ${written} vectors to ${ROOT}`);
