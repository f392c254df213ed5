import { accessSync, constants } from 'node:fs';
import { HOW_TO_GENERATE, passwordOfUrl, placeholderReason } from './secret-strength';

/**
 * Typed configuration from the environment. A service declares a spec once; `loadConfig` parses
 * every variable and throws one ConfigError naming each bad or missing variable, so a
 * misconfigured deployment fails at start with the whole list instead of one problem per restart.
 */
export interface VarSpec<T> {
  /** Environment variable name. */
  readonly env: string;
  /** What the variable is for, quoted in error messages. */
  readonly description: string;
  /** Used when the variable is unset or empty; absent means the variable is required. */
  readonly default?: T;
  /** Unset is allowed and yields undefined. */
  readonly optional?: boolean;
  /** Parses the raw value or throws an Error whose message says what is wrong with it. */
  parse(raw: string): T;
}

export type ConfigSpec = Record<string, VarSpec<unknown>>;

export type ConfigOf<S extends ConfigSpec> = {
  readonly [K in keyof S]: S[K] extends VarSpec<infer T>
    ? S[K] extends { optional: true }
      ? T | undefined
      : T
    : never;
};

export interface ConfigProblem {
  env: string;
  problem: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.env}: ${p.problem}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/**
 * `crossChecks` see the parsed values of the variables that parsed, for rules that span several
 * variables (two that go together); their problems are listed with the others.
 */
export function loadConfig<S extends ConfigSpec>(
  spec: S,
  env: NodeJS.ProcessEnv = process.env,
  crossChecks?: (parsed: Partial<ConfigOf<S>>) => ConfigProblem[],
): ConfigOf<S> {
  const problems: ConfigProblem[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(spec)) {
    const raw = env[v.env];
    if (raw === undefined || raw.trim() === '') {
      if (v.default !== undefined) out[key] = v.default;
      else if (v.optional) out[key] = undefined;
      else problems.push({ env: v.env, problem: `missing; set it to ${v.description}` });
      continue;
    }
    try {
      out[key] = v.parse(raw.trim());
    } catch (err) {
      problems.push({ env: v.env, problem: `${(err as Error).message} (expected ${v.description})` });
    }
  }
  if (crossChecks) problems.push(...crossChecks(out as Partial<ConfigOf<S>>));
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

interface Opts<T> {
  description: string;
  default?: T;
}

export function str(env: string, opts: Opts<string> & { minLength?: number }): VarSpec<string> {
  return {
    env,
    description: opts.description,
    default: opts.default,
    parse(raw) {
      if (opts.minLength !== undefined && raw.length < opts.minLength) {
        throw new Error(`too short: ${raw.length} characters, need at least ${opts.minLength}`);
      }
      return raw;
    },
  };
}

export function optionalStr(env: string, description: string): VarSpec<string> & { optional: true } {
  return { env, description, optional: true, parse: (raw) => raw };
}

/** A URL; with `checkPassword`, a password in it must not be a placeholder, and it is never echoed. */
export function url(
  env: string,
  opts: Opts<string> & { protocols: string[]; checkPassword?: boolean },
): VarSpec<string> {
  return {
    env,
    description: opts.description,
    default: opts.default,
    parse(raw) {
      let parsed: URL;
      try {
        parsed = new URL(raw);
      } catch {
        throw new Error(opts.checkPassword ? 'not a URL' : `not a URL: "${raw}"`);
      }
      if (!opts.protocols.includes(parsed.protocol)) {
        throw new Error(`protocol "${parsed.protocol}" not one of ${opts.protocols.join(', ')}`);
      }
      const password = opts.checkPassword ? passwordOfUrl(raw) : null;
      const reason = password ? placeholderReason(password) : null;
      if (reason) throw new Error(`its password ${reason}; ${HOW_TO_GENERATE}`);
      return raw;
    },
  };
}

export function int(env: string, opts: Opts<number> & { min?: number; max?: number }): VarSpec<number> {
  return {
    env,
    description: opts.description,
    default: opts.default,
    parse(raw) {
      if (!/^-?\d+$/.test(raw)) throw new Error(`not an integer: "${raw}"`);
      const n = Number(raw);
      if (opts.min !== undefined && n < opts.min) throw new Error(`${n} is below ${opts.min}`);
      if (opts.max !== undefined && n > opts.max) throw new Error(`${n} is above ${opts.max}`);
      return n;
    },
  };
}

/** A decimal number (a duration in days may be a fraction of one: tests use seconds' worth). */
export function decimal(env: string, opts: Opts<number> & { min?: number; max?: number }): VarSpec<number> {
  return {
    env,
    description: opts.description,
    default: opts.default,
    parse(raw) {
      if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(raw)) throw new Error(`not a number: "${raw}"`);
      const n = Number(raw);
      if (opts.min !== undefined && n < opts.min) throw new Error(`${n} is below ${opts.min}`);
      if (opts.max !== undefined && n > opts.max) throw new Error(`${n} is above ${opts.max}`);
      return n;
    },
  };
}

/** A TCP port; 0 asks the OS for a free one (tests use it). */
export function port(env: string, defaultPort: number, description: string): VarSpec<number> {
  return int(env, {
    description: `${description}, a TCP port 0-65535`,
    default: defaultPort,
    min: 0,
    max: 65535,
  });
}

/** A name prefix for queues and buckets: lowercase, digits and dashes, as S3 bucket names allow. */
export function prefix(env: string, defaultValue: string, description: string): VarSpec<string> {
  return {
    env,
    description: `${description} (lowercase letters, digits, '-', 1-40 characters)`,
    default: defaultValue,
    parse(raw) {
      if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(raw)) throw new Error(`invalid prefix "${raw}"`);
      return raw;
    },
  };
}

/**
 * A key or token: at least `minLength` characters and not a placeholder. The value is never
 * echoed in an error, so a refused secret does not end up in a log.
 */
export function secret(env: string, opts: { description: string; minLength?: number }): VarSpec<string> {
  const minLength = opts.minLength ?? MIN_SECRET_LENGTH;
  return {
    env,
    description: opts.description,
    parse(raw) {
      const problems: string[] = [];
      if (raw.length < minLength)
        problems.push(`too short: ${raw.length} characters, need at least ${minLength}`);
      const reason = placeholderReason(raw);
      if (reason) problems.push(reason);
      if (problems.length > 0) throw new Error(`${problems.join('; ')}; ${HOW_TO_GENERATE}`);
      return raw;
    },
  };
}

/** Keys and tokens the services generate or compare: 32 characters at least. */
export const MIN_SECRET_LENGTH = 32;

/** Like `str`, for a credential of another system (S3): refused when it is a placeholder. */
export function credential(env: string, opts: Opts<string>): VarSpec<string> {
  return {
    env,
    description: opts.description,
    default: opts.default,
    parse(raw) {
      const reason = placeholderReason(raw);
      if (reason) throw new Error(`${reason}; set the real credential`);
      return raw;
    },
  };
}

/** An optional path to a file that must exist and be readable. */
export function optionalFile(env: string, description: string): VarSpec<string> & { optional: true } {
  return {
    env,
    description,
    optional: true,
    parse(raw) {
      try {
        accessSync(raw, constants.R_OK);
      } catch {
        throw new Error(`cannot read file "${raw}"`);
      }
      return raw;
    },
  };
}
