import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { RedisClient } from '../redis/redis.options';
import { RedisConfigError, RedisUnavailableError, isRedisConnectionError } from '../redis/redis.errors';
import type { RedisService } from '../redis/redis.service';

/** What @nestjs/throttler expects back from a storage (its `ThrottlerStorageRecord`); times in seconds. */
export interface RedisThrottlerRecord {
  /** Hits counted in the current window (the one just made included). */
  totalHits: number;
  /** Seconds until the current window ends. */
  timeToExpire: number;
  /** True when the tracker is over the limit (the guard answers 429). */
  isBlocked: boolean;
  /** Seconds until the block ends (0 when not blocked); the guard sends it as Retry-After. */
  timeToBlockExpire: number;
}

/** Options of {@link RedisThrottlerStorage}. */
export interface RedisThrottlerStorageOptions {
  /** RedisModule client to use (default `default`). */
  clientName?: string;
  /**
   * Longest wait for Redis per request, in milliseconds (default 250). A request whose counter cannot be
   * updated in time is let through (fail open), so a slow Redis never adds more than this to a request.
   */
  timeoutMs?: number;
  /**
   * When Redis is unreachable or slow: `true` (default) lets the request through and logs a warning at
   * most every 30 s; `false` rethrows the error (the app answers 503).
   */
  failOpen?: boolean;
}

/** Lua: fixed window counter + block marker. KEYS[1] hits, KEYS[2] block; ARGV ttlMs, limit, blockMs. */
const INCREMENT_LUA = `
local blockTtl = redis.call('PTTL', KEYS[2])
if blockTtl > 0 then
  return {tonumber(redis.call('GET', KEYS[2]) or ARGV[2]), math.max(redis.call('PTTL', KEYS[1]), 0), 1, blockTtl}
end
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if hits > tonumber(ARGV[2]) then
  local blockMs = tonumber(ARGV[3])
  if blockMs > 0 then
    redis.call('SET', KEYS[2], hits, 'PX', blockMs)
    redis.call('DEL', KEYS[1])
    return {hits, 0, 1, blockMs}
  end
  return {hits, ttl, 1, ttl}
end
return {hits, ttl, 0, 0}
`;

const COMMAND = 'nrkThrottleIncrement';

type ThrottleClient = RedisClient & {
  nrkThrottleIncrement(
    hitsKey: string,
    blockKey: string,
    ttlMs: number,
    limit: number,
    blockMs: number,
  ): Promise<number[]>;
};

const defined = new WeakSet<RedisClient>();

/**
 * A `ThrottlerStorage` for @nestjs/throttler on the shared RedisModule client: one Lua call per request
 * (INCR + PEXPIRE of a fixed window, and a block marker once over the limit), so every instance of a
 * service shares the same counters. Keys: `<prefix>throttle:{<throttler>:<key>}` (+ `:block`), one hash
 * tag per counter so it works on Cluster. Fails open by default when Redis is down or slow.
 *
 * ```ts
 * ThrottlerModule.forRootAsync({
 *   inject: [RedisService],
 *   useFactory: (redis: RedisService) => ({
 *     throttlers: [{ ttl: 60_000, limit: 100 }],
 *     storage: new RedisThrottlerStorage(redis),
 *   }),
 * })
 * ```
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger('RedisThrottlerStorage');
  private readonly clientName: string | undefined;
  private readonly timeoutMs: number;
  private readonly failOpen: boolean;
  private lastWarnAt = 0;
  /** Requests let through because Redis could not be asked (fail open), since start. */
  failedOpen = 0;

  /**
   * @param redis the RedisModule service whose client and key prefix are used
   * @param options see {@link RedisThrottlerStorageOptions}
   */
  constructor(
    private readonly redis: RedisService,
    options: RedisThrottlerStorageOptions = {},
  ) {
    if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
      throw new RedisConfigError(
        'throttler.timeoutMs',
        `must be a positive number of milliseconds, got ${options.timeoutMs}`,
      );
    }
    this.clientName = options.clientName;
    this.timeoutMs = options.timeoutMs ?? 250;
    this.failOpen = options.failOpen ?? true;
  }

  /** Redis key of the hit counter of one tracker key and throttler (the block marker adds `:block`). */
  keyFor(key: string, throttlerName: string): string {
    return `${this.redis.prefixFor('throttle')}{${throttlerName}:${key}}`;
  }

  /**
   * Counts one hit. Called by the ThrottlerGuard on every request.
   * @param key tracker key (the guard's hash of route + client IP)
   * @param ttlMs window length in milliseconds
   * @param limit hits allowed per window
   * @param blockDurationMs how long a tracker over the limit stays blocked, in milliseconds
   * @param throttlerName name of the throttler (`default`, `login`...)
   */
  async increment(
    key: string,
    ttlMs: number,
    limit: number,
    blockDurationMs: number,
    throttlerName: string,
  ): Promise<RedisThrottlerRecord> {
    const hitsKey = this.keyFor(key, throttlerName);
    let timer: NodeJS.Timeout | undefined;
    try {
      const client = this.client();
      // Not connected: fail at once rather than queue a hit that would be counted late, after reconnecting.
      if (client.status !== 'ready') throw new RedisUnavailableError(`Redis client is ${client.status}`);
      const reply = await Promise.race([
        client.nrkThrottleIncrement(
          hitsKey,
          `${hitsKey}:block`,
          Math.max(1, Math.round(ttlMs)),
          Math.floor(limit),
          Math.max(0, Math.round(blockDurationMs)),
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Command timed out: throttler counter not updated within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
      const [totalHits, windowMs, blocked, blockMs] = reply.map(Number);
      return {
        totalHits,
        timeToExpire: Math.ceil(windowMs / 1000),
        isBlocked: blocked === 1,
        timeToBlockExpire: Math.ceil(blockMs / 1000),
      };
    } catch (err) {
      if (!this.failOpen || !isRedisConnectionError(err)) throw err;
      this.failedOpen++;
      const now = Date.now();
      if (now - this.lastWarnAt > 30_000) {
        this.lastWarnAt = now;
        this.logger.warn(`Rate limit not enforced (Redis unavailable, failing open): ${(err as Error).message}`);
      }
      return { totalHits: 0, timeToExpire: Math.ceil(ttlMs / 1000), isBlocked: false, timeToBlockExpire: 0 };
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private client(): ThrottleClient {
    const client = this.redis.getClient(this.clientName);
    if (!defined.has(client)) {
      client.defineCommand(COMMAND, { numberOfKeys: 2, lua: INCREMENT_LUA });
      defined.add(client);
    }
    return client as ThrottleClient;
  }
}
