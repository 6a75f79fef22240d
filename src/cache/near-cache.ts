import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { NearCacheOptions } from './cache.options';

/** One near-cache entry: the decoded cache entry, its tags, and when it must be dropped. */
export interface NearEntry<E> {
  /** The entry as read from (or written to) Redis. */
  entry: E;
  /** Tags the entry carries (for tag invalidation messages). */
  tags: readonly string[];
}

/**
 * In-process LRU (lru-cache, bounded by entries) in front of Redis, with a tag -> keys index so that an
 * invalidation message for a tag drops exactly the entries that carry it ({@link NearCacheInvalidation} keeps it
 * coherent across processes). Internal to CacheService.
 */
export class NearCache<E extends object> {
  private readonly lru: LRUCache<string, NearEntry<E>>;
  private readonly byTag = new Map<string, Set<string>>();
  private readonly logger = new Logger('NearCache');

  constructor(private readonly options: Required<NearCacheOptions>) {
    this.lru = new LRUCache<string, NearEntry<E>>({
      max: options.maxEntries,
      ttl: options.ttlMs,
      ttlAutopurge: false,
      dispose: (value, key) => this.unindex(key, value.tags),
    });
  }

  /** The entry of `key`, when present and not expired. */
  get(key: string): NearEntry<E> | undefined {
    return this.lru.get(key);
  }

  /**
   * Keeps an entry for at most `ttlMs` (capped by the near cache's own TTL).
   * @param ttlMs how long the entry is still valid, in milliseconds
   */
  set(key: string, entry: E, tags: readonly string[], ttlMs: number): void {
    const ttl = Math.min(this.options.ttlMs, Math.floor(ttlMs));
    if (ttl <= 0) {
      this.lru.delete(key);
      return;
    }
    this.lru.set(key, { entry, tags }, { ttl });
    for (const tag of tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  /** Drops these keys. */
  delete(keys: readonly string[]): void {
    for (const k of keys) this.lru.delete(k);
  }

  /** Drops every entry carrying one of these tags. */
  deleteTags(tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      if (!keys) continue;
      for (const k of [...keys]) this.lru.delete(k);
      this.byTag.delete(tag);
    }
  }

  /** Drops everything (e.g. when the invalidation subscriber reconnects: it may have missed messages). */
  clear(reason?: string): void {
    if (reason && this.lru.size > 0) this.logger.log(`Near cache cleared: ${reason}`);
    this.lru.clear();
    this.byTag.clear();
  }

  /** Number of entries held. */
  get size(): number {
    return this.lru.size;
  }

  private unindex(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.byTag.delete(tag);
    }
  }
}
