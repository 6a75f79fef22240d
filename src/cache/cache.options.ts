import { RedisConfigError } from '../redis/redis.errors';

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

function duration(path: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RedisConfigError(
      `cache.${path}`,
      `must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds, got ${String(value)}`,
    );
  }
  return Math.round(value);
}

/** Validates RedisCacheModule options (throws {@link RedisConfigError} naming the option) and fills in defaults. */
export function resolveCacheOptions(options: RedisCacheModuleOptions = {}): ResolvedCacheOptions {
  if (options === null || typeof options !== 'object') throw new RedisConfigError('cache', 'must be an object');
  let nearCache: Required<NearCacheOptions> | false = false;
  if (options.nearCache) {
    const n = options.nearCache;
    if (!Number.isInteger(n.maxEntries) || n.maxEntries <= 0) {
      throw new RedisConfigError(
        'cache.nearCache.maxEntries',
        `must be a positive integer, got ${String(n.maxEntries)}`,
      );
    }
    nearCache = { maxEntries: n.maxEntries, ttlMs: duration('nearCache.ttlMs', n.ttlMs, 30_000) };
  }
  if (options.privateCookieNames !== undefined) {
    if (!Array.isArray(options.privateCookieNames) || options.privateCookieNames.some((c) => typeof c !== 'string')) {
      throw new RedisConfigError('cache.privateCookieNames', 'must be an array of cookie names');
    }
  }
  if (options.clientName !== undefined && (typeof options.clientName !== 'string' || !options.clientName)) {
    throw new RedisConfigError('cache.clientName', 'must be a non-empty string');
  }
  return {
    clientName: options.clientName ?? 'default',
    defaultTtlMs: duration('defaultTtlMs', options.defaultTtlMs, 60_000),
    negativeTtlMs: duration('negativeTtlMs', options.negativeTtlMs, 5_000),
    readTimeoutMs: duration('readTimeoutMs', options.readTimeoutMs, 100),
    writeTimeoutMs: duration('writeTimeoutMs', options.writeTimeoutMs, 500),
    lockTtlMs: duration('lockTtlMs', options.lockTtlMs, 5_000),
    lockWaitMs: duration('lockWaitMs', options.lockWaitMs, 1_000, true),
    lockPollMs: duration('lockPollMs', options.lockPollMs, 20),
    probeIntervalMs: duration('probeIntervalMs', options.probeIntervalMs, 500),
    nearCache,
    privateCookieNames: options.privateCookieNames,
  };
}
