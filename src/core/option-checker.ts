import { RedisConfigError } from '../redis/redis.errors';

/** Makes the error a failed check throws: `path` is the dotted option path, `problem` what is wrong. */
export type OptionErrorFactory = (path: string, problem: string) => Error;

/** Bounds of a number check. */
export interface NumberBounds {
  /** Smallest value accepted (default: 0 for durations, 1 for counts). */
  min?: number;
  /** Largest value accepted (default: none). */
  max?: number;
}

const show = (value: unknown): string =>
  typeof value === 'string'
    ? JSON.stringify(value)
    : typeof value === 'object' && value !== null
      ? 'an object'
      : String(value);

/**
 * The one place options and call arguments are checked. Every check returns the value (typed) when it is
 * usable or `undefined` when it was not given, and otherwise throws an error naming the dotted option path
 * (`cache.readTimeoutMs`, `@StreamConsumer(Billing.handle).maxAttempts`). Module options throw
 * {@link RedisConfigError} ({@link check}); a feature whose call arguments need its own error type makes its
 * own checker (`new OptionChecker((path, problem) => new LockOptionsError(path, problem))`).
 */
export class OptionChecker {
  /** @param makeError builds the error of a failed check */
  constructor(
    private readonly makeError: OptionErrorFactory = (path, problem) => new RedisConfigError(path, problem),
  ) {}

  /** Throws this checker's error for `path`. */
  fail(path: string, problem: string): never {
    throw this.makeError(path, problem);
  }

  /** A whole number of milliseconds, at least `min` (default 0). */
  durationMs(path: string, value: unknown, bounds: NumberBounds = {}): number | undefined {
    return this.integer(path, value, { min: 0, ...bounds }, 'number of milliseconds');
  }

  /** A whole number, at least `min` (default 1). */
  positiveInt(path: string, value: unknown, bounds: NumberBounds = {}): number | undefined {
    return this.integer(path, value, { min: 1, ...bounds }, 'integer');
  }

  /** A whole number, at least 0. */
  nonNegativeInt(path: string, value: unknown, bounds: NumberBounds = {}): number | undefined {
    return this.integer(path, value, { min: 0, ...bounds }, 'integer');
  }

  /** A finite number within bounds (fractions allowed). */
  finite(path: string, value: unknown, bounds: NumberBounds = {}): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value))
      this.fail(path, `must be a finite number, got ${show(value)}`);
    this.bounds(path, value, bounds, 'number');
    return value;
  }

  /** `true` or `false`. */
  boolean(path: string, value: unknown): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') this.fail(path, `must be true or false, got ${show(value)}`);
    return value;
  }

  /** A non-empty string of at most `maxLength` characters (default 1024). */
  string(path: string, value: unknown, maxLength = 1024): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length === 0)
      this.fail(path, `must be a non-empty string, got ${show(value)}`);
    if (value.length > maxLength) this.fail(path, `must be at most ${maxLength} characters`);
    return value;
  }

  /**
   * A part of a Redis key (a name, a group, a stream): a non-empty string without whitespace or braces (braces
   * are hash tags on Cluster; the library places them itself), at most `maxLength` characters (default 256).
   */
  keyPart(path: string, value: unknown, maxLength = 256): string | undefined {
    const s = this.string(path, value, maxLength);
    if (s !== undefined && /[\s{}]/.test(s)) this.fail(path, `must not contain whitespace or braces, got ${show(s)}`);
    return s;
  }

  /** One of the listed values. */
  oneOf<T extends string | number | boolean>(path: string, value: unknown, choices: readonly T[]): T | undefined {
    if (value === undefined) return undefined;
    if (!choices.includes(value as T)) {
      this.fail(path, `must be one of ${choices.map((c) => show(c)).join(', ')}, got ${show(value)}`);
    }
    return value as T;
  }

  /** A plain object (not null, not an array); `undefined` passes. */
  object(path: string, value: unknown): Record<string, unknown> | undefined {
    if (value === undefined) return undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.fail(path, `must be an object, got ${Array.isArray(value) ? 'an array' : show(value)}`);
    }
    return value as Record<string, unknown>;
  }

  private integer(path: string, value: unknown, bounds: NumberBounds, what: string): number | undefined {
    if (value === undefined) return undefined;
    const { min } = bounds;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || (min !== undefined && min <= 1 && value < min)) {
      this.fail(path, `must be ${describeInteger(min, what)}, got ${show(value)}`);
    }
    this.bounds(path, value, bounds, what);
    return value;
  }

  private bounds(path: string, value: number, { min, max }: NumberBounds, what: string): void {
    if (min !== undefined && value < min) this.fail(path, `must be at least ${min} (${what}), got ${value}`);
    if (max !== undefined && value > max) this.fail(path, `must be at most ${max} (${what}), got ${value}`);
  }
}

/** `a positive integer`, `a non-negative integer number of milliseconds`, `an integer`. */
function describeInteger(min: number | undefined, what: string): string {
  const sign = min === 0 ? 'non-negative ' : min === 1 ? 'positive ' : '';
  const noun = what === 'integer' ? 'integer' : `integer ${what}`;
  return `${sign ? 'a ' : 'an '}${sign}${noun}`;
}

/** The checker of module options: failures are {@link RedisConfigError}s. */
export const check = new OptionChecker();
