import { CacheKeyError } from './cache.errors';
import { RESERVED_KEY_PARTS } from './cache.keys';

/** Longest key accepted, in characters. */
export const MAX_KEY_LENGTH = 1024;

/** Longest tag accepted, in characters. */
export const MAX_TAG_LENGTH = 256;

/**
 * Throws {@link CacheKeyError} unless `key` is a usable cache key: a non-empty string of at most
 * {@link MAX_KEY_LENGTH} characters outside the reserved space (`lock:`, `tag:`).
 */
export function checkCacheKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new CacheKeyError(key, 'must be a string');
  if (key.length === 0) throw new CacheKeyError(key, 'must not be empty');
  if (key.length > MAX_KEY_LENGTH) throw new CacheKeyError(key, `must be at most ${MAX_KEY_LENGTH} characters`);
  for (const reserved of RESERVED_KEY_PARTS) {
    if (key.startsWith(reserved)) throw new CacheKeyError(key, `keys starting with "${reserved}" are reserved`);
  }
}

/**
 * Throws {@link CacheKeyError} unless `tag` is a usable tag: a non-empty string of at most {@link MAX_TAG_LENGTH}
 * characters without braces (the cache makes the tag the hash tag of its version key).
 */
export function checkCacheTag(tag: unknown): asserts tag is string {
  if (typeof tag !== 'string' || tag.length === 0) throw new CacheKeyError(tag, 'a tag must be a non-empty string');
  if (tag.length > MAX_TAG_LENGTH) throw new CacheKeyError(tag, `a tag must be at most ${MAX_TAG_LENGTH} characters`);
  if (/[{}]/.test(tag)) throw new CacheKeyError(tag, 'a tag must not contain braces');
}

/** {@link checkCacheKey} for each key. */
export function checkCacheKeys(keys: readonly unknown[]): void {
  for (const key of keys) checkCacheKey(key);
}

/** {@link checkCacheTag} for each tag. */
export function checkCacheTags(tags: readonly unknown[]): void {
  for (const tag of tags) checkCacheTag(tag);
}
