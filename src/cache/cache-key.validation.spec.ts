import { CacheKeyError } from './cache.errors';
import { checkCacheKey, checkCacheKeys, checkCacheTag, MAX_KEY_LENGTH, MAX_TAG_LENGTH } from './cache-key.validation';

describe('cache key and tag checks', () => {
  it('accept usable keys and tags', () => {
    expect(() => checkCacheKey('user:1')).not.toThrow();
    expect(() => checkCacheKey('x'.repeat(MAX_KEY_LENGTH))).not.toThrow();
    expect(() => checkCacheKeys(['a', 'locked:1', 'tags'])).not.toThrow();
    expect(() => checkCacheTag('users')).not.toThrow();
  });

  it.each([
    [42, /must be a string/],
    ['', /must not be empty/],
    ['x'.repeat(MAX_KEY_LENGTH + 1), /at most 1024 characters/],
    ['lock:1', /keys starting with "lock:" are reserved/],
    ['tag:{a}', /keys starting with "tag:" are reserved/],
  ])('key %p: a CacheKeyError', (key, message) => {
    expect(() => checkCacheKey(key)).toThrow(CacheKeyError);
    expect(() => checkCacheKey(key)).toThrow(message);
  });

  it.each([
    ['', /non-empty string/],
    [undefined, /non-empty string/],
    ['x'.repeat(MAX_TAG_LENGTH + 1), /at most 256 characters/],
    ['a{b}', /must not contain braces/],
  ])('tag %p: a CacheKeyError', (tag, message) => {
    expect(() => checkCacheTag(tag)).toThrow(CacheKeyError);
    expect(() => checkCacheTag(tag)).toThrow(message);
  });

  it('the error carries the offending key', () => {
    try {
      checkCacheKeys(['ok', '']);
    } catch (err) {
      expect((err as CacheKeyError).key).toBe('');
    }
    expect.assertions(1);
  });
});
