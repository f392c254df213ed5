import { isValidClientName } from '@outpost/contracts';

/**
 * Object layout (docs/architecture.md). Bucket `<prefix>-inbox` holds a client's uploaded files
 * as they move inbox -> archive (applied) or quarantine; `staging/` holds uploads not yet accepted
 * (a leftover there is harmless and never referenced by a row). Bucket `<prefix>-outbox` holds
 * the files the router wrote for each client, per extract epoch.
 */
export const inboxBucket = (bucketPrefix: string): string => `${bucketPrefix}-inbox`;
export const outboxBucket = (bucketPrefix: string): string => `${bucketPrefix}-outbox`;

export type InboxArea = 'inbox' | 'archive' | 'quarantine';

export function padFileSeq(fileSeq: number): string {
  if (!Number.isSafeInteger(fileSeq) || fileSeq < 1 || fileSeq > 999_999_999_999) {
    throw new RangeError(`File seq must be an integer from 1 to 999999999999, got ${fileSeq}`);
  }
  return String(fileSeq).padStart(12, '0');
}

function checkClient(client: string): string {
  if (!isValidClientName(client)) throw new RangeError(`Invalid client name "${client}" in an object key`);
  return client;
}

export function inboxAreaKey(area: InboxArea, client: string, fileSeq: number): string {
  return `${inboxAreaPrefix(area)}${checkClient(client)}/${padFileSeq(fileSeq)}.dx`;
}

/** What every key of an area starts with (to find objects by area in SQL: `LIKE prefix || '%'`). */
export const inboxAreaPrefix = (area: InboxArea): string => `${area}/`;
export const inboxKey = (client: string, fileSeq: number): string => inboxAreaKey('inbox', client, fileSeq);
export const archiveKey = (client: string, fileSeq: number): string =>
  inboxAreaKey('archive', client, fileSeq);
export const quarantineKey = (client: string, fileSeq: number): string =>
  inboxAreaKey('quarantine', client, fileSeq);

export function stagingKey(client: string, fileSeq: number, uploadId: string): string {
  if (!/^[A-Za-z0-9-]{8,64}$/.test(uploadId)) throw new RangeError(`Invalid upload id "${uploadId}"`);
  return `staging/${checkClient(client)}/${padFileSeq(fileSeq)}.${uploadId}.dx`;
}

/**
 * A part of a resumable upload, named by the whole file's sha256 and the part's byte offset, so a
 * part can only ever be joined with parts of the same file. `parts/` is apart from `staging/`:
 * parts live across requests (and agent restarts), staging objects within one request.
 */
export function partKey(client: string, fileSeq: number, sha256: string, offset: number): string {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new RangeError(`Part offset must be a non-negative integer, got ${offset}`);
  return `${partsPrefix(client, fileSeq, sha256)}${String(offset).padStart(15, '0')}.part`;
}

/** Where every client's upload parts live. */
export const PARTS_ROOT = 'parts/';

/** Every part of a client; with `fileSeq`, of that file; with `sha256` too, of that content. */
export function partsPrefix(client: string, fileSeq?: number, sha256?: string): string {
  let prefix = `${PARTS_ROOT}${checkClient(client)}/`;
  if (fileSeq === undefined) return prefix;
  prefix += `${padFileSeq(fileSeq)}/`;
  if (sha256 === undefined) return prefix;
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new RangeError(`Invalid sha256 "${sha256}" in an object key`);
  return `${prefix}${sha256}/`;
}

/** The byte offset a part key names, or null for a key that is not a part. */
export function partOffsetOf(key: string): number | null {
  const m = /\/(\d{15})\.part$/.exec(key);
  return m ? Number(m[1]) : null;
}

export function outboxKey(client: string, epoch: number, fileSeq: number): string {
  if (!Number.isSafeInteger(epoch) || epoch < 0)
    throw new RangeError(`Epoch must be a non-negative integer, got ${epoch}`);
  return `outbox/${checkClient(client)}/${epoch}/${padFileSeq(fileSeq)}.dx`;
}
