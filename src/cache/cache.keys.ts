/**
 * Key parts reserved for the cache's own keys (`<prefix>cache:lock:<key>`, `<prefix>cache:tag:{<tag>}`) and for the
 * entries of namespaced Keyv stores (`<prefix>cache:ns:<namespace>:<key>`).
 */
export const RESERVED_KEY_PARTS = ['lock:', 'tag:', 'ns:'] as const;

/** Escapes glob characters so that a key prefix is matched literally by SCAN MATCH. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * Every Redis key (and the one channel) the cache writes, all under `<prefix>cache:`, so that `clear()` can remove
 * exactly them and MONITOR output explains itself. A tag's version key carries the tag as a hash tag (one key per
 * script call, placed by the tag on Cluster).
 */
export class CacheKeys {
  /** @param prefix `<prefix>cache:` (from `RedisService.prefixFor('cache')`) */
  constructor(readonly prefix: string) {}

  /** A cache entry: `<prefix>cache:<key>`. */
  entry(key: string): string {
    return this.prefix + key;
  }

  /**
   * Where the entries of a Keyv store with `namespace` live: `<prefix>cache:ns:<namespace>:` with the namespace
   * URI-encoded (no `:` or braces in it), so that no two namespaces, and no namespace and the plain entries, share a
   * key.
   */
  namespacePrefix(namespace: string): string {
    return `${this.prefix}ns:${encodeURIComponent(namespace)}:`;
  }

  /** The start of every namespaced entry: `<prefix>cache:ns:`. */
  get namespacesPrefix(): string {
    return `${this.prefix}ns:`;
  }

  /** The cross-process loader lock of `key`: `<prefix>cache:lock:<key>`. */
  loaderLock(key: string): string {
    return `${this.prefix}lock:${key}`;
  }

  /** A tag's version counter: `<prefix>cache:tag:{<tag>}`. */
  tagVersion(tag: string): string {
    return `${this.prefix}tag:{${tag}}`;
  }

  /** The pub/sub channel of near-cache invalidation messages: `<prefix>cache:inv`. */
  get invalidationChannel(): string {
    return `${this.prefix}inv`;
  }

  /** SCAN MATCH pattern of every key that starts with `keyPrefix`, taken literally. */
  static patternFor(keyPrefix: string): string {
    return `${escapeGlob(keyPrefix)}*`;
  }

  /** SCAN MATCH pattern of every key of the cache (entries, tag versions, loader locks, namespaced entries). */
  get everyKeyPattern(): string {
    return CacheKeys.patternFor(this.prefix);
  }
}
