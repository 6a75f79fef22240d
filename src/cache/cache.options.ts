import { check } from '../core/option-checker';

/** Near cache: a bounded in-process LRU in front of Redis, kept coherent by invalidation messages. */
export interface NearCacheOptions {
  /** Largest number of entries kept in process memory. */
  maxEntries: number;
  /** Longest time an entry stays in the near cache, in milliseconds (default 30000; never beyond its Redis TTL). */
  ttlMs?: number;
}

/** Options of `RedisCacheModule.forRoot()` / `forRootAsync()`. */
export interface RedisCacheModuleOptions {
  /** RedisModule client the cache uses (default `default`). No connection is made for the cache. */
  clientName?: string;
  /** TTL of entries when the caller gives none, in milliseconds (default 60000). */
  defaultTtlMs?: number;
  /** TTL of "not found" entries (a loader that returned null or undefined), in milliseconds (default 5000). */
  negativeTtlMs?: number;
  /** A read that gets no answer within this many milliseconds is a miss (default 100). */
  readTimeoutMs?: number;
  /** A write that gets no answer within this many milliseconds is given up (default 500). */
  writeTimeoutMs?: number;
  /** Lease of the cross-process loader lock, in milliseconds (default 5000). */
  lockTtlMs?: number;
  /** How long a process that lost the loader lock polls for the value before loading itself, in ms (default 1000). */
  lockWaitMs?: number;
  /** Pause between two polls of a waiting process, in milliseconds (default 20). */
  lockPollMs?: number;
  /** While Redis is failing, one request in this many milliseconds probes it; the others skip it (default 500). */
  probeIntervalMs?: number;
  /** Near cache (off by default). */
  nearCache?: NearCacheOptions | false;
  /**
   * `UserAwareCacheInterceptor`: names of the cookies that identify a user (e.g. `['connect.sid']`). A request
   * carrying one of them, or an Authorization header, is never cached. Default: any cookie at all.
   */
  privateCookieNames?: string[];
}

/** Options after validation, with every default filled in. */
export interface ResolvedCacheOptions {
  /** See {@link RedisCacheModuleOptions.clientName}. */
  clientName: string;
  /** See {@link RedisCacheModuleOptions.defaultTtlMs}. */
  defaultTtlMs: number;
  /** See {@link RedisCacheModuleOptions.negativeTtlMs}. */
  negativeTtlMs: number;
  /** See {@link RedisCacheModuleOptions.readTimeoutMs}. */
  readTimeoutMs: number;
  /** See {@link RedisCacheModuleOptions.writeTimeoutMs}. */
  writeTimeoutMs: number;
  /** See {@link RedisCacheModuleOptions.lockTtlMs}. */
  lockTtlMs: number;
  /** See {@link RedisCacheModuleOptions.lockWaitMs}. */
  lockWaitMs: number;
  /** See {@link RedisCacheModuleOptions.lockPollMs}. */
  lockPollMs: number;
  /** See {@link RedisCacheModuleOptions.probeIntervalMs}. */
  probeIntervalMs: number;
  /** Near cache options, or false when off. */
  nearCache: Required<NearCacheOptions> | false;
  /** See {@link RedisCacheModuleOptions.privateCookieNames}; undefined means any cookie. */
  privateCookieNames: string[] | undefined;
}

/** Validates RedisCacheModule options (throws a `RedisConfigError` naming the option) and fills in defaults. */
export function resolveCacheOptions(options: RedisCacheModuleOptions = {}): ResolvedCacheOptions {
  const o = check.object('cache', options) ?? {};
  const duration = (name: string, fallback: number, min = 1): number =>
    check.durationMs(`cache.${name}`, o[name], { min }) ?? fallback;
  let nearCache: Required<NearCacheOptions> | false = false;
  if (o.nearCache) {
    const near = check.object('cache.nearCache', o.nearCache) ?? {};
    const maxEntries =
      check.positiveInt('cache.nearCache.maxEntries', near.maxEntries) ??
      check.fail('cache.nearCache.maxEntries', 'must be a positive integer, got undefined');
    nearCache = { maxEntries, ttlMs: check.durationMs('cache.nearCache.ttlMs', near.ttlMs, { min: 1 }) ?? 30_000 };
  }
  const cookies = o.privateCookieNames;
  if (cookies !== undefined && (!Array.isArray(cookies) || cookies.some((c) => typeof c !== 'string'))) {
    check.fail('cache.privateCookieNames', 'must be an array of cookie names');
  }
  return {
    clientName: check.string('cache.clientName', o.clientName) ?? 'default',
    defaultTtlMs: duration('defaultTtlMs', 60_000),
    negativeTtlMs: duration('negativeTtlMs', 5_000),
    readTimeoutMs: duration('readTimeoutMs', 100),
    writeTimeoutMs: duration('writeTimeoutMs', 500),
    lockTtlMs: duration('lockTtlMs', 5_000),
    lockWaitMs: duration('lockWaitMs', 1_000, 0),
    lockPollMs: duration('lockPollMs', 20),
    probeIntervalMs: duration('probeIntervalMs', 500),
    nearCache,
    privateCookieNames: cookies as string[] | undefined,
  };
}
