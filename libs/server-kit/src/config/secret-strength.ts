/**
 * Refuses the secrets people paste from examples. A deployment that starts with `changeme` or with
 * the value from a compose file is as open as one with no secret at all, so the services refuse to
 * start instead of warning. The words are long enough that a random value (base64 or hex) never
 * contains one by chance.
 */
const PLACEHOLDER_WORDS = [
  'changeme',
  'secret',
  'password',
  'passwd',
  'example',
  'placeholder',
  'default',
  'dummy',
  'sample',
  'replaceme',
  'yourtoken',
  'insecure',
];

/** Fewer distinct characters than this in a long value means it was typed, not generated. */
const MIN_DISTINCT_CHARACTERS = 8;
/** A run of this many consecutive characters (abcdefgh, 87654321) is a keyboard walk. */
const SEQUENCE_RUN = 8;

/** Why a secret looks like a placeholder, or null when it does not. Never quotes the value. */
export function placeholderReason(value: string): string | null {
  const folded = value.toLowerCase().replace(/[^a-z0-9]/g, '');
  const word = PLACEHOLDER_WORDS.find((w) => folded.includes(w));
  if (word) return `looks like a placeholder (contains "${word}")`;
  if (/^(.+?)\1+$/s.test(value)) return 'is one pattern repeated';
  if (value.length >= 16 && new Set(value).size < MIN_DISTINCT_CHARACTERS) {
    return `uses only ${new Set(value).size} distinct characters`;
  }
  if (hasSequence(value)) return `contains a run of ${SEQUENCE_RUN} consecutive characters`;
  return null;
}

function hasSequence(value: string): boolean {
  let up = 1;
  let down = 1;
  for (let i = 1; i < value.length; i++) {
    const step = value.charCodeAt(i) - value.charCodeAt(i - 1);
    up = step === 1 ? up + 1 : 1;
    down = step === -1 ? down + 1 : 1;
    if (up >= SEQUENCE_RUN || down >= SEQUENCE_RUN) return true;
  }
  return false;
}

/** The password of a URL such as postgres://user:pass@host, when it has one. */
export function passwordOfUrl(raw: string): string | null {
  try {
    const password = new URL(raw).password;
    return password ? decodeURIComponent(password) : null;
  } catch {
    return null;
  }
}

export const HOW_TO_GENERATE = 'generate one with `openssl rand -base64 32`';
