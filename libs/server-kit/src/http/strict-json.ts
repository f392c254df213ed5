import { ErrorCode } from '@outpost/contracts';
import { DomainError } from '../errors/domain-error';

/**
 * Keys that a JSON body may not carry: `__proto__` and `constructor` reach an object's prototype
 * when a body is merged or spread into another object (prototype pollution), and `prototype`
 * does on functions. No request of this API has a field of these names.
 */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Why a JSON text is refused although it parses: a key twice in one object (JSON.parse keeps the
 * last, so two readers of one body could see different values) or a forbidden key. Undefined when
 * the text is acceptable or is not JSON at all (the parser reports that).
 */
export function strictJsonProblem(text: string): string | undefined {
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  try {
    return new KeyScanner(text).value();
  } catch (err) {
    if (err instanceof RangeError) return 'the JSON is nested too deeply';
    throw err;
  }
}

/** Walks a text known to be valid JSON and checks the keys of every object. */
class KeyScanner {
  private i = 0;

  constructor(private readonly text: string) {}

  value(): string | undefined {
    this.space();
    const c = this.text[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') {
      this.string();
      return undefined;
    }
    while (this.i < this.text.length && !',]} \t\n\r'.includes(this.text[this.i])) this.i++;
    return undefined;
  }

  private object(): string | undefined {
    this.i++;
    const keys = new Set<string>();
    this.space();
    if (this.text[this.i] === '}') {
      this.i++;
      return undefined;
    }
    for (;;) {
      this.space();
      const key = this.string();
      if (FORBIDDEN_KEYS.has(key)) return `the key "${key}" is not allowed in a request body`;
      if (keys.has(key)) return `the key "${key.slice(0, 64)}" appears twice in one object`;
      keys.add(key);
      this.space();
      this.i++; // the colon
      const problem = this.value();
      if (problem) return problem;
      this.space();
      if (this.text[this.i++] === '}') return undefined;
    }
  }

  private array(): string | undefined {
    this.i++;
    this.space();
    if (this.text[this.i] === ']') {
      this.i++;
      return undefined;
    }
    for (;;) {
      const problem = this.value();
      if (problem) return problem;
      this.space();
      if (this.text[this.i++] === ']') return undefined;
    }
  }

  /** The decoded string at the cursor (escapes resolved, so `\u005f_proto__` is `__proto__`). */
  private string(): string {
    const start = this.i++;
    while (this.text[this.i] !== '"') this.i += this.text[this.i] === '\\' ? 2 : 1;
    this.i++;
    return JSON.parse(this.text.slice(start, this.i)) as string;
  }

  private space(): void {
    while (' \t\n\r'.includes(this.text[this.i] ?? '.')) this.i++;
  }
}

/**
 * The JSON body parser's `verify` hook: a body with a duplicate or forbidden key is refused with
 * 400 before it is parsed, like a body that is not JSON.
 */
export function verifyStrictJson(_req: unknown, _res: unknown, buf: Buffer, encoding: string): void {
  const problem = strictJsonProblem(buf.toString(Buffer.isEncoding(encoding) ? encoding : 'utf8'));
  if (problem) throw new DomainError(ErrorCode.ValidationFailed, `Refused JSON body: ${problem}`);
}
