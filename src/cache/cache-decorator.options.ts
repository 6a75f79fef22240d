import { check } from '../core/option-checker';

/** Keys or tags of a cache decorator: fixed, or computed from the method's arguments. */
export type FixedOrFromArgs<A extends unknown[]> = readonly string[] | ((...args: A) => readonly string[]);

/** Where a decorator stores a method's result: a key and tags, from the method's arguments. */
export interface CacheKeyFromArgs<A extends unknown[] = unknown[]> {
  /** Cache key from the method's arguments, e.g. `(id: number) => \`user:${id}\``. */
  key: (...args: A) => string;
  /** Tags the stored entry carries, fixed or from the arguments. */
  tags?: FixedOrFromArgs<A>;
}

/**
 * Throws a RedisConfigError naming `path` unless `value` is absent, an array of strings or a function (keys or
 * tags of a decorator).
 */
export function checkListOption(path: string, value: unknown): void {
  if (value === undefined || typeof value === 'function') return;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    check.fail(path, 'must be an array of strings or a function of the method arguments returning one');
  }
}

/** Throws a RedisConfigError naming the option unless `key` is a function and `tags` usable. */
export function checkKeyFromArgs(path: string, options: CacheKeyFromArgs): void {
  if (typeof options.key !== 'function') {
    check.fail(`${path}.key`, 'must be a function of the method arguments returning the key');
  }
  checkListOption(`${path}.tags`, options.tags);
}

/** The keys or tags for one call. */
export function valuesFor<A extends unknown[]>(
  value: FixedOrFromArgs<A> | undefined,
  args: unknown[],
): readonly string[] | undefined {
  return typeof value === 'function' ? value(...(args as A)) : value;
}
