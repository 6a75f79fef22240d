import { CacheSerializationError } from './cache.errors';

/**
 * JSON text of a value, stored as is (one encoding: `redis-cli GET` shows the value itself).
 * @param key the cache key the value is meant for (named in the error)
 * @throws CacheSerializationError for a value without a JSON form (BigInt, circular, undefined, a function...)
 */
export function encodeCacheValue(key: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new CacheSerializationError(key, err instanceof Error ? err.message : String(err), { cause: err });
  }
  if (text === undefined) throw new CacheSerializationError(key, `a value of type ${typeof value} has no JSON form`);
  return text;
}

/** Marks text that is not JSON (written under our prefix by something else). */
export const NOT_JSON: unique symbol = Symbol('nest-redis-kit:cache:not-json');

/** The parsed value of stored JSON text, or {@link NOT_JSON}. */
export function decodeCacheValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON;
  }
}
