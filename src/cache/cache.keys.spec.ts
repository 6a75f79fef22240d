import { CacheKeys, escapeGlob, RESERVED_KEY_PARTS } from './cache.keys';

describe('CacheKeys', () => {
  const keys = new CacheKeys('app:cache:');

  it('puts every key and the channel under <prefix>cache:', () => {
    expect(keys.entry('user:1')).toBe('app:cache:user:1');
    expect(keys.loaderLock('user:1')).toBe('app:cache:lock:user:1');
    expect(keys.tagVersion('users')).toBe('app:cache:tag:{users}');
    expect(keys.invalidationChannel).toBe('app:cache:inv');
  });

  it("the cache's own keys sit in the reserved part of the key space, so no entry can collide with them", () => {
    const own = [keys.loaderLock('x'), keys.tagVersion('x')].map((k) => k.slice(keys.prefix.length));
    for (const part of own) expect(RESERVED_KEY_PARTS.some((r) => part.startsWith(r))).toBe(true);
  });

  it('puts namespaced Keyv entries in their own part, the namespace encoded so that two never share a key', () => {
    expect(keys.namespacePrefix('keyv')).toBe('app:cache:ns:keyv:');
    expect(keys.namespacePrefix('a:b') + 'c').not.toBe(keys.namespacePrefix('a') + 'b:c');
    expect(keys.namespacePrefix('{x}*')).toBe('app:cache:ns:%7Bx%7D*:');
    expect(keys.namespacePrefix('x').startsWith(keys.namespacesPrefix)).toBe(true);
    expect(RESERVED_KEY_PARTS).toContain('ns:');
  });

  it('matches the prefix literally in SCAN MATCH', () => {
    expect(escapeGlob('a*b?c[d]e\\f')).toBe('a\\*b\\?c\\[d\\]e\\\\f');
    expect(new CacheKeys('t[1]:cache:').everyKeyPattern).toBe('t\\[1\\]:cache:*');
  });
});
