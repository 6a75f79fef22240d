import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { RedisClient } from '../redis/redis.options';
import { RedisKeyvStore } from './redis-keyv.store';
import { CacheRuntime, UNAVAILABLE } from './cache.runtime';
import type { CacheStats } from './cache.stats';
import { NearCache, type InvalidationMessage } from './near-cache';

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
}

/** Stored form of a CacheService entry (JSON, one encoding). */
interface Entry {
  /** The value (absent for an undefined "not found"). */
  v?: unknown;
  /** Fresh until this time, ms since the epoch. */
  f: number;
  /** Tag -> version at load time. */
  t?: Record<string, string>;
  /** 1 for a negative ("not found") entry. */
  n?: 1;
}

const NO_OPTIONS: GetOrSetOptions = Object.freeze({});
const NO_TAGS: readonly string[] = Object.freeze([]);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function isEntry(x: unknown): x is Entry {
  return typeof x === 'object' && x !== null && typeof (x as Entry).f === 'number';
}

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
  private readonly near: NearCache<Entry> | undefined;
  private subscriber: RedisClient | undefined;
  private subscriberReadyOnce = false;
  private readonly channel: string;

  constructor(
    private readonly rt: CacheRuntime,
    /** The Keyv store behind CACHE_MANAGER (exposed for `clear()` and advanced use). */
    readonly store: RedisKeyvStore,
  ) {
    this.near = rt.options.nearCache ? new NearCache<Entry>(rt.options.nearCache) : undefined;
    this.channel = `${rt.prefix}inv`;
  }

  /**
   * Counters since start (a fresh copy; every field only grows). See {@link CacheStats}.
   * A metrics exporter reads it at scrape time.
   */
  get stats(): Readonly<CacheStats> {
    return { ...this.rt.counters };
  }

  /** True when the near cache is on. */
  get nearCacheEnabled(): boolean {
    return this.near !== undefined;
  }

  /** Subscribes to invalidation messages when the near cache is on. */
  async onModuleInit(): Promise<void> {
    if (!this.near) return;
    const sub = this.rt.redis.duplicate(this.rt.options.clientName, 'cache-invalidation');
    this.subscriber = sub;
    sub.on('ready', () => {
      // ioredis re-subscribes on reconnect; messages sent meanwhile are lost, so start empty.
      if (this.subscriberReadyOnce) this.near?.clear('invalidation subscriber reconnected');
      this.subscriberReadyOnce = true;
    });
    if (sub.status === 'ready') this.subscriberReadyOnce = true;
    sub.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.onInvalidation(text);
    });
    try {
      await sub.subscribe(this.channel);
    } catch (err) {
      this.logger.warn(`Near cache: cannot subscribe to ${this.channel}: ${(err as Error).message}`);
    }
  }

  /** Closes the invalidation subscriber. */
  async onModuleDestroy(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub) await this.rt.redis.release(sub).catch(() => undefined);
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
    return this.lookup(key, loader, options, false) as Promise<T>;
  }

  /** {@link getOrSet}, also telling whether the answer was a hit, a stale hit or a miss. */
  getOrSetEntry<T>(
    key: string,
    loader: () => Promise<T> | T,
    options: GetOrSetOptions = NO_OPTIONS,
  ): Promise<CacheResult<T>> {
    return this.lookup(key, loader, options, true) as Promise<CacheResult<T>>;
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
      this.rt.checkKey(key);
      for (const t of tags) this.rt.checkTag(t);
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
    return this.rt.command(
      'get',
      [this.rt.entryKey(key)],
      this.rt.options.readTimeoutMs,
      (raw: string | null | typeof UNAVAILABLE): T | CacheResult<T> | Promise<T | CacheResult<T>> => {
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
    first: Entry | null | typeof UNAVAILABLE,
  ): Promise<T | CacheResult<T>> {
    let read = first;
    if (read !== UNAVAILABLE && read !== null && read.t && (options.tags ?? NO_TAGS).length === 0) {
      read = await this.verifyTags(read, NO_TAGS, []);
    }
    if (read !== UNAVAILABLE && read !== null) {
      this.countHit(read, false);
      if (read.f > Date.now()) {
        if (this.near) this.keepNear(key, read);
        return withStatus ? { value: read.v as T, status: 'hit' } : (read.v as T);
      }
      // Present but past its freshness: stale-while-revalidate window.
      this.rt.counters.staleServed++;
      this.flight(key, () => this.load(key, loader, options, false)).catch((err: unknown) =>
        this.logger.warn(`Background refresh of "${key}" failed: ${err instanceof Error ? err.message : String(err)}`),
      );
      return withStatus ? { value: read.v as T, status: 'stale' } : (read.v as T);
    }
    this.rt.counters.misses++;
    const result = await this.flight(key, () => this.load(key, loader, options, read === UNAVAILABLE));
    return withStatus ? result : result.value;
  }

  /** The value of `key` (fresh or stale), or undefined when absent, invalidated, "not found", or Redis unavailable. */
  async get<T>(key: string): Promise<T | undefined> {
    this.rt.checkKey(key);
    const near = this.near?.get(key);
    if (near && near.entry.f > Date.now()) {
      this.countHit(near.entry, true);
      return near.entry.v as T | undefined;
    }
    const read = await this.readEntry(key, []);
    if (read === UNAVAILABLE || read === null) {
      this.rt.counters.misses++;
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
    this.rt.checkKey(key);
    const tags = options.tags ?? [];
    tags.forEach((t) => this.rt.checkTag(t));
    const ttlMs = options.ttlMs ?? this.rt.options.defaultTtlMs;
    const versions = tags.length ? await this.touchTags(tags, ttlMs + this.rt.options.writeTimeoutMs) : undefined;
    if (versions === UNAVAILABLE) return false;
    return this.write(key, { v: value, f: Date.now() + ttlMs, ...(versions ? { t: versions } : {}) }, ttlMs, tags);
  }

  /**
   * Evicts keys (UNLINK) here, in Redis and in every near cache. Fails open: while Redis is down the
   * eviction is skipped (logged and counted); entries then live at most until their TTL.
   * @returns the number of keys that existed
   */
  async delete(...keys: string[]): Promise<number> {
    keys.forEach((k) => this.rt.checkKey(k));
    if (keys.length === 0) return 0;
    this.near?.delete(keys);
    const c = this.rt.client;
    const full = keys.map((k) => this.rt.entryKey(k));
    const n = await this.rt.write(async () =>
      c.isCluster
        ? (await Promise.all(full.map((k) => c.unlink(k)))).reduce((a, b) => a + b, 0)
        : (c as Redis).unlink(...full),
    );
    this.rt.counters.deletes += keys.length;
    this.publish({ i: this.instanceId, k: keys });
    return n === UNAVAILABLE ? 0 : n;
  }

  /**
   * Invalidates every entry carrying one of these tags: one atomic INCR of each tag's version counter
   * (Lua, `<prefix>cache:tag:{<tag>}`), O(1) whatever the number of keys, safe on Cluster. Entries written
   * with an older version are misses from then on and expire with their TTL.
   * @returns the number of tags that had live entries
   */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    tags.forEach((t) => this.rt.checkTag(t));
    if (tags.length === 0) return 0;
    this.near?.deleteTags(tags);
    const results = await Promise.all(
      tags.map((t) => this.rt.write(() => this.rt.client.nrkCacheBumpTag(this.rt.tagKey(t)))),
    );
    this.rt.counters.tagInvalidations += tags.length;
    this.publish({ i: this.instanceId, t: [...tags] });
    return results.filter((r) => r !== UNAVAILABLE && Number(r) > 0).length;
  }

  /**
   * Removes every key of the cache (`<prefix>cache:*`) on every master with SCAN + UNLINK, and nothing else;
   * empties every near cache.
   * @returns the number of Redis keys removed
   * @throws RedisUnavailableError when Redis cannot be reached
   */
  async clear(): Promise<number> {
    this.near?.clear();
    const removed = await this.store.clearCount();
    this.publish({ i: this.instanceId, c: 1 });
    return removed;
  }

  /** Runs `fn` once per key at a time in this process; concurrent callers share its promise. */
  private flight<T>(key: string, fn: () => Promise<CacheResult<T>>): Promise<CacheResult<T>> {
    const running = this.inFlight.get(key) as Promise<CacheResult<T>> | undefined;
    if (running) {
      this.rt.counters.coalesced++;
      return running.then((r) => ({ value: r.value, status: 'miss' as const }));
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
    const tags = options.tags ?? [];
    const lockKey = this.rt.lockKey(key);
    let token: string | undefined;
    if (!redisDown && this.rt.options.lockWaitMs > 0) {
      const candidate = randomUUID();
      const got = await this.rt.write(() =>
        this.rt.client.set(lockKey, candidate, 'PX', this.rt.options.lockTtlMs, 'NX'),
      );
      if (got === 'OK') token = candidate;
      else if (got === null) {
        // Another process is loading this key: poll for its value, then load ourselves.
        this.rt.counters.lockWaits++;
        const deadline = Date.now() + this.rt.options.lockWaitMs;
        while (Date.now() < deadline) {
          await sleep(this.rt.options.lockPollMs);
          const e = await this.readEntry(key, tags);
          if (e === UNAVAILABLE) break;
          if (e && e.f > Date.now()) {
            this.keepNear(key, e);
            return { value: e.v as T, status: 'miss' };
          }
        }
      }
    }
    try {
      const ttl = this.ttlFor(options);
      const versions =
        tags.length && !redisDown ? await this.touchTags(tags, ttl.physicalMs + this.rt.options.lockTtlMs) : undefined;
      this.rt.counters.loads++;
      let value: T;
      try {
        value = await loader();
      } catch (err) {
        this.rt.counters.loadErrors++;
        throw err;
      }
      const negative = value === null || value === undefined;
      const freshMs = negative ? (options.negativeTtlMs ?? this.rt.options.negativeTtlMs) : ttl.freshMs;
      const physicalMs = negative ? freshMs : ttl.physicalMs;
      const entry: Entry = { f: Date.now() + freshMs };
      if (value !== undefined) entry.v = value;
      if (negative) entry.n = 1;
      if (versions && versions !== UNAVAILABLE) entry.t = versions;
      const text = this.rt.encode(key, entry);
      if (!redisDown && versions !== UNAVAILABLE) await this.writeText(key, entry, text, physicalMs, tags);
      return { value, status: 'miss' };
    } finally {
      if (token) {
        const t = token;
        await this.rt.write(() => this.rt.client.nrkCacheReleaseLock(lockKey, t));
      }
    }
  }

  private ttlFor(options: GetOrSetOptions): { freshMs: number; physicalMs: number } {
    const base = options.ttlMs ?? this.rt.options.defaultTtlMs;
    const jitter = options.jitterMs ? Math.floor(Math.random() * options.jitterMs) : 0;
    const freshMs = Math.max(1, Math.round(base + jitter));
    return { freshMs, physicalMs: freshMs + Math.max(0, Math.round(options.staleWhileRevalidateMs ?? 0)) };
  }

  /** Reads and decodes an entry, checking its tag versions; prefetches the versions of `hintTags` in parallel. */
  private async readEntry(key: string, hintTags: readonly string[]): Promise<Entry | null | typeof UNAVAILABLE> {
    const c = this.rt.client;
    if (hintTags.length === 0) {
      const raw = await this.rt.read(() => c.get(this.rt.entryKey(key)));
      if (raw === UNAVAILABLE) return UNAVAILABLE;
      const entry = this.decodeEntry(raw);
      return entry?.t ? this.verifyTags(entry, NO_TAGS, []) : entry;
    }
    const raws = await this.rt.read(() =>
      Promise.all([c.get(this.rt.entryKey(key)), ...hintTags.map((t) => c.get(this.rt.tagKey(t)))]),
    );
    if (raws === UNAVAILABLE) return UNAVAILABLE;
    const entry = this.decodeEntry(raws[0]);
    return entry?.t ? this.verifyTags(entry, hintTags, raws.slice(1)) : entry;
  }

  /** Parses a stored entry; null when absent or not ours (counted as an error). */
  private decodeEntry(raw: string | null): Entry | null {
    if (raw === null) return null;
    let entry: unknown;
    try {
      entry = JSON.parse(raw);
    } catch {
      entry = undefined;
    }
    if (!isEntry(entry)) {
      this.rt.counters.errors++;
      return null;
    }
    return entry;
  }

  /** The entry when every tag it carries still has the version it was loaded under; null when invalidated. */
  private async verifyTags(
    entry: Entry,
    knownTags: readonly string[],
    knownVersions: Array<string | null>,
  ): Promise<Entry | null | typeof UNAVAILABLE> {
    const c = this.rt.client;
    const known = new Map<string, string | null>(knownTags.map((t, i) => [t, knownVersions[i]]));
    const missing = Object.keys(entry.t ?? {}).filter((t) => !known.has(t));
    if (missing.length) {
      const more = await this.rt.read(() => Promise.all(missing.map((t) => c.get(this.rt.tagKey(t)))));
      if (more === UNAVAILABLE) return UNAVAILABLE;
      missing.forEach((t, i) => known.set(t, more[i]));
    }
    for (const [tag, version] of Object.entries(entry.t ?? {})) {
      if (known.get(tag) !== version) return null; // invalidated (or its version key expired)
    }
    return entry;
  }

  /** Creates/extends each tag's version key and returns tag -> version (UNAVAILABLE when Redis fails). */
  private async touchTags(
    tags: readonly string[],
    ttlMs: number,
  ): Promise<Record<string, string> | typeof UNAVAILABLE> {
    const versions = await this.rt.write(() =>
      Promise.all(tags.map((t) => this.rt.client.nrkCacheTouchTag(this.rt.tagKey(t), Math.ceil(ttlMs)))),
    );
    if (versions === UNAVAILABLE) return UNAVAILABLE;
    return Object.fromEntries(tags.map((t, i) => [t, String(versions[i])]));
  }

  private async write(key: string, entry: Entry, physicalMs: number, tags: readonly string[]): Promise<boolean> {
    return this.writeText(key, entry, this.rt.encode(key, entry), physicalMs, tags);
  }

  private async writeText(
    key: string,
    entry: Entry,
    text: string,
    physicalMs: number,
    tags: readonly string[],
  ): Promise<boolean> {
    const ok = await this.rt.write(() => this.rt.client.set(this.rt.entryKey(key), text, 'PX', Math.ceil(physicalMs)));
    if (ok === UNAVAILABLE) return false;
    this.rt.counters.sets++;
    if (this.near) {
      this.near.set(key, entry, tags, entry.f - Date.now());
      this.publish({ i: this.instanceId, k: [key] });
    }
    return true;
  }

  private keepNear(key: string, entry: Entry): void {
    if (this.near) this.near.set(key, entry, Object.keys(entry.t ?? {}), entry.f - Date.now());
  }

  private countHit(entry: Entry, near: boolean): void {
    this.rt.counters.hits++;
    if (near) this.rt.counters.nearHits++;
    if (entry.n) this.rt.counters.negativeHits++;
  }

  private publish(message: InvalidationMessage): void {
    if (!this.near) return;
    void this.rt.write(() => this.rt.client.publish(this.channel, JSON.stringify(message)));
  }

  private onInvalidation(text: string): void {
    let msg: InvalidationMessage;
    try {
      msg = JSON.parse(text) as InvalidationMessage;
    } catch {
      return;
    }
    if (!this.near || msg.i === this.instanceId) return;
    this.rt.counters.invalidationsReceived++;
    if (msg.c) this.near.clear();
    if (msg.k) this.near.delete(msg.k);
    if (msg.t) this.near.deleteTags(msg.t);
  }
}
