import { randomBytes } from 'node:crypto';

const LABEL_MAX = 20;

/**
 * A prefix unique to this call, for QUEUE_PREFIX and S3_BUCKET_PREFIX, so concurrent tests can
 * share one broker and one S3 endpoint. It is lowercase letters, digits and hyphens, starts with a
 * letter and stays within 40 characters, the limit the services' config puts on prefixes, so that
 * `<prefix>-outbox` is also a valid S3 bucket name.
 */
export function uniquePrefix(label = 't'): string {
  const cleaned = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, LABEL_MAX)
    .replace(/-+$/, '');
  const time = Date.now().toString(36);
  const random = randomBytes(4).toString('hex');
  return `${cleaned || 't'}-${time}-${random}`;
}

/** A unique Postgres database name (lowercase identifier, at most 63 bytes) starting with `label`. */
export function uniqueDatabaseName(label = 'test'): string {
  const cleaned = label
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^[^a-z]+/, '')
    .slice(0, LABEL_MAX)
    .replace(/_+$/, '');
  return `${cleaned || 'test'}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** True when `name` is a valid S3 bucket name as AWS and MinIO accept it. */
export function isValidBucketName(name: string): boolean {
  return (
    name.length >= 3 &&
    name.length <= 63 &&
    /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name)
  );
}
