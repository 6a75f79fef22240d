import { check } from '../core/option-checker';

/** Keys or tags of a cache decorator: fixed, or computed from the method's arguments. */
export type FixedOrFromArgs<A extends unknown[]> = readonly string[] | ((...args: A) => readonly string[]);

/** Throws a RedisConfigError naming `path` unless `value` is a function (a decorator's `key`). */
export function checkKeyFunction(path: string, value: unknown): void {
  if (typeof value !== 'function') check.fail(path, 'must be a function of the method arguments returning the key');
}

/** Throws a RedisConfigError naming `path` unless `value` is absent, an array of strings or a function. */
export function checkListOption(path: string, value: unknown): void {
  if (value === undefined || typeof value === 'function') return;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    check.fail(path, 'must be an array of strings or a function of the method arguments returning one');
  }
}

/** The keys or tags for one call. */
export function valuesFor<A extends unknown[]>(
  value: FixedOrFromArgs<A> | undefined,
  args: unknown[],
): readonly string[] | undefined {
  return typeof value === 'function' ? value(...(args as A)) : value;
}
