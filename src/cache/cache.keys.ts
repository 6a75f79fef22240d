/** Key parts reserved for the cache's own keys (`<prefix>cache:lock:<key>`, `<prefix>cache:tag:{<tag>}`). */
export const RESERVED_KEY_PARTS = ['lock:', 'tag:'] as const;

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

  /** SCAN MATCH pattern of every key of the cache (entries, tag versions, loader locks). */
  get everyKeyPattern(): string {
    return `${escapeGlob(this.prefix)}*`;
  }
}
