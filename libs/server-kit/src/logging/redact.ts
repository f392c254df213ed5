/**
 * What must never reach a log line. Objects: pino's redaction by path, for the keys that carry
 * credentials wherever they appear. Text: messages are scrubbed of credentials inside URLs
 * (postgres://user:PASSWORD@host), bearer tokens, and `secret=value` pairs, because error
 * messages from drivers quote connection strings and headers.
 */
export const REDACTED_KEYS = [
  'authorization',
  'cookie',
  'password',
  'secret',
  'token',
  'adminToken',
  'internalToken',
  'sessionKey',
  'secretKey',
  'secret_hash',
  'secretHash',
  'x-outpost-internal-token',
  'x-outpost-admin-token',
];

/** pino `redact.paths`: each key at the top, one level down, and in request and response headers. */
export const REDACT_PATHS = REDACTED_KEYS.flatMap((key) => {
  const k = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const dot = k.startsWith('[') ? '' : '.';
  return [k, `*${dot}${k}`, `req.headers${dot}${k}`, `res.headers${dot}${k}`];
});

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/gi;
// A token is long; 'bearer token' in prose is not one.
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{16,}/gi;
// `KEY=value` as in environment dumps and query strings; `KEY: problem` (config errors) is prose.
const KEY_VALUE =
  /\b((?:password|secret|token|ADMIN_TOKEN|SESSION_KEY|INTERNAL_TOKEN|S3_SECRET_KEY)\s*=\s*)("?)[^\s",;&]+/gi;

export function scrubText(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1***@').replace(BEARER, '$1***').replace(KEY_VALUE, '$1$2***');
}
