import type { ThrottlerStorage } from '@nestjs/throttler';
import { check } from '../core/option-checker';
import { DecisionRunner } from '../core/rate-decision.runner';
import { FIXED_WINDOW_BLOCKING } from '../core/rate-decision.scripts';
import { RedisUnavailableError } from '../redis/redis.errors';
import type { RedisService } from '../redis/redis.service';
import { ThrottlerKeys } from './throttler.keys';

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
   * When Redis is unreachable or slow: `true` (default) lets the request through; `false` throws a
   * `RedisUnavailableError` (the app answers 503). Either way one warning is logged when an outage begins and one
   * line when it ends.
   */
  failOpen?: boolean;
}

/** Counters of a {@link RedisThrottlerStorage} since start. */
export interface RedisThrottlerStats {
  /** Requests let through because Redis could not be asked (fail open). */
  failedOpen: number;
  /** Hits that could not be counted: Redis failed, did not answer within `timeoutMs`, or was not connected. */
  errors: number;
  /** Transitions from "Redis works" to "Redis fails" (each outage counted once). */
  outages: number;
}

/**
 * A `ThrottlerStorage` for @nestjs/throttler on the shared RedisModule client: one Lua call per request, the
 * shared fixed-window rate decision in its throttler mode (`FIXED_WINDOW_BLOCKING`: every hit counted, and a
 * block marker once over the limit), so every instance of a service shares the same counters. Keys: `<prefix>throttle:{<throttler>:<key>}` (+ `:block`), one hash
 * tag per counter so it works on Cluster. Each call is bounded by `timeoutMs` on the shared deadline sweeper (no
 * timer per request). Fails open by default when Redis is down or slow.
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
  private readonly failOpen: boolean;
  private readonly keys: ThrottlerKeys;
  /** Runs the script: deadline on the shared sweeper, outage state (one log line each way). */
  private readonly runner: DecisionRunner;
  private failedOpenCount = 0;

  /**
   * @param redis the RedisModule service whose client and key prefix are used
   * @param options see {@link RedisThrottlerStorageOptions}
   * @throws RedisConfigError naming the option (`throttler.timeoutMs`...) when an option is unusable
   */
  constructor(
    private readonly redis: RedisService,
    options: RedisThrottlerStorageOptions = {},
  ) {
    const o = check.object('throttler', options) ?? {};
    const clientName = check.string('throttler.clientName', o.clientName);
    const timeoutMs = check.durationMs('throttler.timeoutMs', o.timeoutMs, { min: 1 }) ?? 250;
    this.failOpen = check.boolean('throttler.failOpen', o.failOpen) ?? true;
    this.keys = new ThrottlerKeys(redis.prefixFor('throttle'));
    this.runner = new DecisionRunner(() => this.redis.getClient(clientName), {
      timeoutMs,
      subject: 'the rate limiter',
      fallback: this.failOpen ? 'requests are let through without a limit' : 'requests fail (503)',
      loggerName: 'RedisThrottlerStorage',
    });
  }

  /** Requests let through because Redis could not be asked (fail open), since start. */
  get failedOpen(): number {
    return this.failedOpenCount;
  }

  /** Counters since start (a fresh copy). */
  get stats(): RedisThrottlerStats {
    const { errors, outages } = this.runner.breaker.stats;
    return { failedOpen: this.failedOpenCount, errors, outages };
  }

  /** Redis key of the hit counter of one tracker key and throttler (the block marker adds `:block`). */
  keyFor(key: string, throttlerName: string): string {
    return this.keys.hits(key, throttlerName);
  }

  /**
   * Counts one hit. Called by the ThrottlerGuard on every request.
   * @param key tracker key (the guard's hash of route + client IP)
   * @param ttlMs window length in milliseconds
   * @param limit hits allowed per window
   * @param blockDurationMs how long a tracker over the limit stays blocked, in milliseconds
   * @param throttlerName name of the throttler (`default`, `login`...)
   * @throws RedisUnavailableError when Redis cannot count the hit and `failOpen` is false
   */
  async increment(
    key: string,
    ttlMs: number,
    limit: number,
    blockDurationMs: number,
    throttlerName: string,
  ): Promise<RedisThrottlerRecord> {
    const hitsKey = this.keys.hits(key, throttlerName);
    const reply = await this.runner.run(
      FIXED_WINDOW_BLOCKING,
      [hitsKey, this.keys.block(hitsKey)],
      [Math.max(1, Math.round(ttlMs)), Math.floor(limit), Math.max(0, Math.round(blockDurationMs))],
    );
    if (reply instanceof RedisUnavailableError) return this.uncounted(reply, ttlMs);
    const [allowed, totalHits, windowMs, retryMs] = reply;
    return {
      totalHits,
      timeToExpire: Math.ceil(windowMs / 1000),
      isBlocked: allowed === 0,
      timeToBlockExpire: Math.ceil(retryMs / 1000),
    };
  }

  /** A hit Redis could not count: let through (fail open), or the error. */
  private uncounted(err: RedisUnavailableError, ttlMs: number): RedisThrottlerRecord {
    if (!this.failOpen) throw err;
    this.failedOpenCount++;
    return { totalHits: 0, timeToExpire: Math.ceil(ttlMs / 1000), isBlocked: false, timeToBlockExpire: 0 };
  }
}
