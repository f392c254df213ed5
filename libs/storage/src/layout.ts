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

export function outboxKey(client: string, epoch: number, fileSeq: number): string {
  if (!Number.isSafeInteger(epoch) || epoch < 0)
    throw new RangeError(`Epoch must be a non-negative integer, got ${epoch}`);
  return `outbox/${checkClient(client)}/${epoch}/${padFileSeq(fileSeq)}.dx`;
}
