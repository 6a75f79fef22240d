import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { sleep } from '../core/deadline';
import { internalSpanWanted, openSpan } from '../core/tracing';
import { RedisService } from '../redis/redis.service';
import { checkCacheKey, checkCacheKeys, checkCacheTags } from './cache-key.validation';
import { CACHE_MODULE_OPTIONS } from './cache.constants';
import { decodeCacheEntry, entryTags, type CacheEntry } from './cache.entry';
import { CacheKeys } from './cache.keys';
import { CacheKeyspace } from './cache.keyspace';
import type { ResolvedCacheOptions } from './cache.options';
import { CacheRedis, UNAVAILABLE, type OrUnavailable } from './cache-redis';
import { RELEASE_LOADER_LOCK } from './cache.scripts';
import { CacheCounters, type CacheStats } from './cache.stats';
import { CacheTags } from './cache.tags';
import { encodeCacheValue } from './cache-value.codec';
import { NearCache } from './near-cache';
import { NearCacheInvalidation } from './near-cache.invalidation';

/** Options of one `getOrSet` call. Every duration is in milliseconds. */
export interface GetOrSetOptions {
  /** How long the value is fresh (default: the module's `defaultTtlMs`). */
  ttlMs?: number;
  /** Random extra TTL in `[0, jitterMs)`, so that keys written together do not expire together. */
  jitterMs?: number;
  /** After `ttlMs`, the value is still served for this long while one caller refreshes it in the background. */
  staleWhileRevalidateMs?: number;
  /** Tags: `invalidateTags([tag])` makes every entry carrying one of them a miss. */
  tags?: readonly string[];
  /** TTL of a "not found" result (loader returned null or undefined); default: the module's `negativeTtlMs`. */
  negativeTtlMs?: number;
}

/** Options of `CacheService.set`. */
export interface CacheSetOptions {
  /** TTL in milliseconds (default: the module's `defaultTtlMs`). */
  ttlMs?: number;
  /** Tags the entry carries. */
  tags?: readonly string[];
}

/** Where a `getOrSet` answer came from. */
export type CacheStatus = 'hit' | 'stale' | 'miss';

/** A `getOrSet` answer with its provenance (e.g. for an `X-Cache: HIT|MISS` header). */
export interface CacheResult<T> {
  /** The value (null / undefined for a cached "not found"). */
  value: T;
  /** `hit` (fresh from near cache or Redis), `stale` (served while refreshing), `miss` (the loader ran or was joined). */
  status: CacheStatus;
  /** On a miss: true when another caller's loader (in this process or another one) gave the value. */
  waited?: boolean;
}

const NO_OPTIONS: GetOrSetOptions = Object.freeze({});
const NO_TAGS: readonly string[] = Object.freeze([]);

/** What a read of an entry gives: the entry, null (absent, invalidated, not ours) or UNAVAILABLE. */
type EntryRead = OrUnavailable<CacheEntry | null>;

/**
 * Cache-aside on Redis for any provider: `getOrSet` with single-flight (in process and across processes),
 * negative caching, stale-while-revalidate, TTL jitter, tags (version counters: atomic and Cluster-safe),
 * fail-open reads, optional near cache kept coherent by invalidation messages, and counters in `stats`.
 */
@Injectable()
export class CacheService implements OnModuleInit, OnModuleDestroy {
  /** Identifies this process in invalidation messages. */
  readonly instanceId = randomUUID();
  private readonly logger = new Logger('Cache');
  private readonly inFlight = new Map<string, Promise<CacheResult<unknown>>>();
  private readonly near: NearCache<CacheEntry> | undefined;
  private readonly invalidation: NearCacheInvalidation | undefined;

  constructor(
    @Inject(CACHE_MODULE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly redis: CacheRedis,
    private readonly keys: CacheKeys,
    private readonly tags: CacheTags,
    private readonly counters: CacheCounters,
    private readonly keyspace: CacheKeyspace,
    redisService: RedisService,
  ) {
    if (!options.nearCache) return;
    this.near = new NearCache<CacheEntry>(options.nearCache);
    this.invalidation = new NearCacheInvalidation({
      near: this.near,
      instanceId: this.instanceId,
      channel: keys.invalidationChannel,
      redisService,
      clientName: options.clientName,
      redis,
      onReceived: () => this.counters.invalidationsReceived++,
    });
  }

  /**
   * Counters since start (a fresh copy; every field only grows). See {@link CacheStats}.
   * A metrics exporter reads it at scrape time.
   */
  get stats(): Readonly<CacheStats> {
    return this.counters.snapshot(this.redis.outageStats);
  }

  /** True when the near cache is on. */
  get nearCacheEnabled(): boolean {
    return this.near !== undefined;
  }

  /** Subscribes to invalidation messages when the near cache is on. */
  async onModuleInit(): Promise<void> {
    await this.invalidation?.start();
  }

  /** Closes the invalidation subscriber. */
  async onModuleDestroy(): Promise<void> {
    await this.invalidation?.stop();
  }

  /**
   * The cached value of `key`, or the loader's result (stored for next time). Concurrent callers of one key
   * share one loader call in this process; across processes a short Redis lock lets one load while the others
   * poll briefly. A null/undefined result is cached as "not found" for `negativeTtlMs`. When Redis is slow
   * or down, the loader is called and nothing is written.
   * @throws CacheKeyError for an unusable key or tag; CacheSerializationError for a value without a JSON form;
   *         whatever the loader throws
   */
  getOrSet<T>(key: string, loader: () => Promise<T> | T, options: GetOrSetOptions = NO_OPTIONS): Promise<T> {
    if (internalSpanWanted()) return this.tracedLookup(key, loader, options, false) as Promise<T>;
    return this.lookup(key, loader, options, false) as Promise<T>;
  }

  /** {@link getOrSet}, also telling whether the answer was a hit, a stale hit or a miss. */
  getOrSetEntry<T>(
    key: string,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions = NO_OPTIONS,
  ): Promise<CacheResult<T>> {
    if (internalSpanWanted()) return this.tracedLookup(key, loader, options, true) as Promise<CacheResult<T>>;
    return this.lookup(key, loader, options, true) as Promise<CacheResult<T>>;
  }

  /**
   * The lookup in a span `cache getOrSet` (the loader runs inside it) whose `nrk.cache.outcome` is hit, stale,
   * miss or waited; the span ends in the same step that answers (tracing on).
   */
  private tracedLookup<T>(
    key: string,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions,
    withStatus: boolean,
  ): Promise<T | CacheResult<T>> {
    const span = openSpan('cache getOrSet', { attributes: { 'nrk.cache.key': key } });
    if (!span) return this.lookup(key, loader, options, withStatus);
    let looked: Promise<CacheResult<T>>;
    try {
      looked = span.run(() => this.lookup(key, loader, options, true) as Promise<CacheResult<T>>);
    } catch (err) {
      span.end(err);
      throw err;
    }
    return looked.then(
      (r) => {
        span.setAttribute('nrk.cache.outcome', r.waited ? 'waited' : r.status);
        span.end();
        return withStatus ? r : r.value;
      },
      (err: unknown) => {
        span.end(err);
        throw err;
      },
    );
  }

  /**
   * The hit path is one step over the Redis GET (no async function in between: it is the hot path); anything
   * else (tags, stale, miss) continues in {@link afterRead}.
   */
  private lookup<T>(
    key: string,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions,
    withStatus: boolean,
  ): Promise<T | CacheResult<T>> {
    const tags = options.tags ?? NO_TAGS;
    try {
      checkCacheKey(key);
      checkCacheTags(tags);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.near) {
      const near = this.near.get(key);
      if (near && near.entry.f > Date.now()) {
        this.countHit(near.entry, true);
        return Promise.resolve(withStatus ? { value: near.entry.v as T, status: 'hit' as const } : (near.entry.v as T));
      }
    }
    if (tags.length > 0) {
      return this.readEntry(key, tags).then((read) => this.afterRead(key, loader, options, withStatus, read));
    }
    return this.redis.command(
      'get',
      [this.keys.entry(key)],
      this.options.readTimeoutMs,
      (raw: OrUnavailable<string | null>): T | CacheResult<T> | Promise<T | CacheResult<T>> => {
        const read = raw === UNAVAILABLE ? UNAVAILABLE : this.decodeEntry(raw);
        if (read !== UNAVAILABLE && read !== null && !read.t && read.f > Date.now()) {
          this.countHit(read, false);
          if (this.near) this.keepNear(key, read);
          return withStatus ? { value: read.v as T, status: 'hit' } : (read.v as T);
        }
        return this.afterRead(key, loader, options, withStatus, read);
      },
    ) as Promise<T | CacheResult<T>>; // a promise returned by the mapper is flattened by then()
  }

  /** Everything but a plain fresh hit: tag checks, stale-while-revalidate, the miss path. */
  private async afterRead<T>(
    key: string,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions,
    withStatus: boolean,
    first: EntryRead,
  ): Promise<T | CacheResult<T>> {
    let read = first;
    if (read !== UNAVAILABLE && read !== null && read.t && (options.tags ?? NO_TAGS).length === 0) {
      read = await this.checkTags(read, new Map());
    }
    if (read !== UNAVAILABLE && read !== null) {
      this.countHit(read, false);
      if (read.f > Date.now()) {
        if (this.near) this.keepNear(key, read);
        return withStatus ? { value: read.v as T, status: 'hit' } : (read.v as T);
      }
      // Present but past its freshness: stale-while-revalidate window.
      this.counters.staleServed++;
      this.flight(key, () => this.load(key, loader, options, false)).catch((err: unknown) =>
        this.logger.warn(`Background refresh of "${key}" failed: ${err instanceof Error ? err.message : String(err)}`),
      );
      return withStatus ? { value: read.v as T, status: 'stale' } : (read.v as T);
    }
    this.counters.misses++;
    const result = await this.flight(key, () => this.load(key, loader, options, read === UNAVAILABLE));
    return withStatus ? result : result.value;
  }

  /** The value of `key` (fresh or stale), or undefined when absent, invalidated, "not found", or Redis unavailable. */
  async get<T>(key: string): Promise<T | undefined> {
    checkCacheKey(key);
    const near = this.near?.get(key);
    if (near && near.entry.f > Date.now()) {
      this.countHit(near.entry, true);
      return near.entry.v as T | undefined;
    }
    const read = await this.readEntry(key, NO_TAGS);
    if (read === UNAVAILABLE || read === null) {
      this.counters.misses++;
      return undefined;
    }
    this.countHit(read, false);
    return read.v as T | undefined;
  }

  /**
   * Stores a value (JSON) with a TTL and tags; other processes drop their near copy.
   * @throws CacheKeyError, CacheSerializationError
   * @returns false when the write was skipped (Redis unavailable)
   */
  async set(key: string, value: unknown, options: CacheSetOptions = {}): Promise<boolean> {
    checkCacheKey(key);
    const tags = options.tags ?? NO_TAGS;
    checkCacheTags(tags);
    const ttlMs = options.ttlMs ?? this.options.defaultTtlMs;
    const versions = tags.length ? await this.tags.touch(tags, ttlMs + this.options.writeTimeoutMs) : undefined;
    if (versions === UNAVAILABLE) return false;
    const entry: CacheEntry = { v: value, f: Date.now() + ttlMs, ...(versions ? { t: versions } : {}) };
    return this.write(key, entry, encodeCacheValue(key, entry), ttlMs);
  }

  /**
   * Evicts keys (UNLINK) here, in Redis and in every near cache. Fails open: while Redis is down the
   * eviction is skipped (logged and counted); entries then live at most until their TTL.
   * @returns the number of keys that existed
   */
  async delete(...keys: string[]): Promise<number> {
    checkCacheKeys(keys);
    if (keys.length === 0) return 0;
    this.near?.delete(keys);
    const n = await this.keyspace.unlink(keys.map((k) => this.keys.entry(k)));
    this.counters.deletes += keys.length;
    this.invalidation?.keysChanged(keys);
    return n === UNAVAILABLE ? 0 : n;
  }

  /**
   * Invalidates every entry carrying one of these tags: one atomic INCR of each tag's version counter
   * (Lua, `<prefix>cache:tag:{<tag>}`), O(1) whatever the number of keys, safe on Cluster. Entries written
   * with an older version are misses from then on and expire with their TTL.
   * @returns the number of tags that had live entries
   */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    checkCacheTags(tags);
    if (tags.length === 0) return 0;
    this.near?.deleteTags(tags);
    const live = await this.tags.bump(tags);
    this.counters.tagInvalidations += tags.length;
    this.invalidation?.tagsInvalidated([...tags]);
    return live;
  }

  /**
   * Removes every key of the cache (`<prefix>cache:*`) on every master with SCAN + UNLINK, and nothing else (the
   * entries of namespaced Keyv stores stay: they belong to their own Keyv); empties every near cache.
   * @returns the number of Redis keys removed
   * @throws RedisUnavailableError when Redis cannot be reached
   */
  async clear(): Promise<number> {
    this.near?.clear();
    const removed = await this.keyspace.clear(this.keys.prefix, this.keys.namespacesPrefix);
    this.invalidation?.cleared();
    return removed;
  }

  /** Runs `fn` once per key at a time in this process; concurrent callers share its promise. */
  private flight<T>(key: string, fn: () => Promise<CacheResult<T>>): Promise<CacheResult<T>> {
    const running = this.inFlight.get(key) as Promise<CacheResult<T>> | undefined;
    if (running) {
      this.counters.coalesced++;
      return running.then((r) => ({ value: r.value, status: 'miss' as const, waited: true }));
    }
    const p = fn().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p as Promise<CacheResult<unknown>>);
    return p;
  }

  /** Miss path: cross-process lock (or a brief wait for the holder's value), then the loader and the write. */
  private async load<T>(
    key: string,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions,
    redisDown: boolean,
  ): Promise<CacheResult<T>> {
    const tags = options.tags ?? NO_TAGS;
    const { lockTtlMs, lockWaitMs, lockPollMs } = this.options;
    const client = this.redis.client;
    const lockKey = this.keys.loaderLock(key);
    let token: string | undefined;
    if (!redisDown && lockWaitMs > 0) {
      const candidate = randomUUID();
      const got = await this.redis.write(() => client.set(lockKey, candidate, 'PX', lockTtlMs, 'NX'));
      if (got === 'OK') token = candidate;
      else if (got === null) {
        // Another process is loading this key: poll for its value, then load ourselves.
        this.counters.lockWaits++;
        const deadline = Date.now() + lockWaitMs;
        while (Date.now() < deadline) {
          await sleep(lockPollMs);
          const e = await this.readEntry(key, tags);
          if (e === UNAVAILABLE) break;
          if (e && e.f > Date.now()) {
            this.keepNear(key, e);
            return { value: e.v as T, status: 'miss', waited: true };
          }
        }
      }
    }
    try {
      const ttl = this.ttlFor(options);
      const versions = tags.length && !redisDown ? await this.tags.touch(tags, ttl.physicalMs + lockTtlMs) : undefined;
      this.counters.loads++;
      let value: T;
      try {
        value = await loader();
      } catch (err) {
        this.counters.loadErrors++;
        throw err;
      }
      const negative = value === null || value === undefined;
      const freshMs = negative ? (options.negativeTtlMs ?? this.options.negativeTtlMs) : ttl.freshMs;
      const physicalMs = negative ? freshMs : ttl.physicalMs;
      const entry: CacheEntry = { f: Date.now() + freshMs };
      if (value !== undefined) entry.v = value;
      if (negative) entry.n = 1;
      if (versions && versions !== UNAVAILABLE) entry.t = versions;
      const text = encodeCacheValue(key, entry);
      if (!redisDown && versions !== UNAVAILABLE) await this.write(key, entry, text, physicalMs);
      return { value, status: 'miss' };
    } finally {
      if (token) {
        const ours = token;
        await this.redis.write(() => RELEASE_LOADER_LOCK.run(client, [lockKey], [ours]));
      }
    }
  }

  private ttlFor(options: GetOrSetOptions): { freshMs: number; physicalMs: number } {
    const base = options.ttlMs ?? this.options.defaultTtlMs;
    const jitter = options.jitterMs ? Math.floor(Math.random() * options.jitterMs) : 0;
    const freshMs = Math.max(1, Math.round(base + jitter));
    return { freshMs, physicalMs: freshMs + Math.max(0, Math.round(options.staleWhileRevalidateMs ?? 0)) };
  }

  /** Reads an entry and checks its tag versions, reading the versions of `hintTags` along with it. */
  private async readEntry(key: string, hintTags: readonly string[]): Promise<EntryRead> {
    const read = await this.tags.readWithVersions(this.keys.entry(key), hintTags);
    if (read === UNAVAILABLE) return UNAVAILABLE;
    const entry = this.decodeEntry(read.raw);
    return entry?.t ? this.checkTags(entry, read.versions) : entry;
  }

  /** The entry when every tag it carries still has the version it was loaded under; null when invalidated. */
  private async checkTags(entry: CacheEntry, known: ReadonlyMap<string, string | null>): Promise<EntryRead> {
    const unchanged = await this.tags.unchanged(entry.t ?? {}, known);
    if (unchanged === UNAVAILABLE) return UNAVAILABLE;
    return unchanged ? entry : null;
  }

  /** Parses a stored entry; null when absent or not ours (counted as an error). */
  private decodeEntry(raw: string | null): CacheEntry | null {
    if (raw === null) return null;
    const entry = decodeCacheEntry(raw);
    if (entry) return entry;
    this.counters.undecodable++;
    return null;
  }

  /** Writes an encoded entry; keeps it near and tells the other processes. False when skipped. */
  private async write(key: string, entry: CacheEntry, text: string, physicalMs: number): Promise<boolean> {
    const ttlMs = Math.ceil(physicalMs);
    const ok = await this.redis.write(() => this.redis.client.set(this.keys.entry(key), text, 'PX', ttlMs));
    if (ok === UNAVAILABLE) return false;
    this.counters.sets++;
    if (this.near) {
      this.keepNear(key, entry);
      this.invalidation?.keysChanged([key]);
    }
    return true;
  }

  private keepNear(key: string, entry: CacheEntry): void {
    if (this.near) this.near.set(key, entry, entryTags(entry), entry.f - Date.now());
  }

  private countHit(entry: CacheEntry, near: boolean): void {
    this.counters.hits++;
    if (near) this.counters.nearHits++;
    if (entry.n) this.counters.negativeHits++;
  }
}
