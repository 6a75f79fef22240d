import { Inject, Injectable, Logger } from '@nestjs/common';
import { deadlines, SweptCommand } from '../core/deadline-sweeper';
import { OutageBreaker, type OutageStats } from '../core/outage-breaker';
import { batchWritesWhileBusy } from '../core/tick-writes';
import type { RedisClient } from '../redis/redis.options';
import { RedisService } from '../redis/redis.service';
import { CACHE_MODULE_OPTIONS } from './cache.constants';
import { CacheKeyError, CacheSerializationError } from './cache.errors';
import type { ResolvedCacheOptions } from './cache.options';

/** What {@link CacheRedis} resolves to when Redis was not asked (failing) or did not answer in time. */
export const UNAVAILABLE: unique symbol = Symbol('nest-redis-kit:cache:unavailable');

/** A reply of {@link CacheRedis}, or {@link UNAVAILABLE}. */
export type OrUnavailable<T> = T | typeof UNAVAILABLE;

/**
 * The cache's way to Redis: every call is bounded (`readTimeoutMs` / `writeTimeoutMs`, through the shared deadline
 * sweeper) and fails open: when Redis is down, slow or failing it resolves to {@link UNAVAILABLE} instead of
 * throwing, so reads fall through to the source and writes are skipped. While failing, one call per
 * `probeIntervalMs` probes Redis and the others skip it at once; one log line when an outage begins and one when it
 * ends ({@link OutageBreaker}). Internal to the cache.
 */
@Injectable()
export class CacheRedis {
  /** The shared RedisModule client the cache uses (`clientName`). */
  readonly client: RedisClient;
  /** The cache's fail-open state; its counters go into `CacheService.stats`. */
  private readonly breaker: OutageBreaker;

  constructor(
    @Inject(CACHE_MODULE_OPTIONS) readonly options: ResolvedCacheOptions,
    redis: RedisService,
  ) {
    this.client = redis.getClient(options.clientName);
    this.breaker = new OutageBreaker({
      subject: 'the cache',
      fallback: 'reads fall through to the source, writes are skipped',
      probeIntervalMs: options.probeIntervalMs,
      logger: new Logger('Cache'),
    });
  }

  /** Redis failures, skipped calls and outages since start (live object). */
  get outageStats(): Readonly<OutageStats> {
    return this.breaker.stats;
  }

  /**
   * The hot path: one single-key command (`get`, `set`...) as one ioredis `Command` on the shared deadline sweeper,
   * with no wrapper promise and no timer of its own (not even the client's `commandTimeout`), written to the socket
   * together with the other commands of this tick while others are in flight (the first 8 at once, the rest in one
   * `writev`; a command sent alone is written at once), its reply (or
   * {@link UNAVAILABLE}) passed through `map` in the same step. Never rejects for a Redis problem.
   * @param timeoutMs bound in milliseconds
   */
  command<T, R>(
    name: string,
    args: Array<string | number>,
    timeoutMs: number,
    map: (reply: OrUnavailable<T>) => R,
  ): Promise<R> {
    if (!this.breaker.allow(this.client)) return Promise.resolve(map(UNAVAILABLE));
    batchWritesWhileBusy(this.client, 'first-8');
    const reply = deadlines.send<T>(this.client, new SweptCommand(name, args, { replyEncoding: 'utf8' }), timeoutMs);
    return reply.then(
      (value) => {
        this.breaker.success();
        return map(value);
      },
      (err: unknown) => {
        this.breaker.failure(err);
        return map(UNAVAILABLE);
      },
    );
  }

  /** Runs Redis reads bounded by `readTimeoutMs`; {@link UNAVAILABLE} when skipped, failed or late. */
  read<T>(op: () => Promise<T>): Promise<OrUnavailable<T>> {
    return this.run(op, this.options.readTimeoutMs);
  }

  /** Runs Redis writes bounded by `writeTimeoutMs`; {@link UNAVAILABLE} when skipped, failed or late. */
  write<T>(op: () => Promise<T>): Promise<OrUnavailable<T>> {
    return this.run(op, this.options.writeTimeoutMs);
  }

  /**
   * `op` (any number of commands: a pipeline, parallel GETs, a script) bounded by a ticket of the shared sweeper,
   * written together with the other commands of this tick while others are in flight.
   * A bad key or value ({@link CacheKeyError}, {@link CacheSerializationError}) still rejects: it is the caller's
   * error, not Redis failing.
   */
  private run<T>(op: () => Promise<T>, timeoutMs: number): Promise<OrUnavailable<T>> {
    if (!this.breaker.allow(this.client)) return Promise.resolve(UNAVAILABLE);
    batchWritesWhileBusy(this.client, 'first-8');
    const started = op(); // may throw synchronously (bad input): the caller's async function turns it into a rejection
    return new Promise<OrUnavailable<T>>((resolve, reject) => {
      const ticket = deadlines.ticket(timeoutMs, (err) => {
        this.breaker.failure(err);
        resolve(UNAVAILABLE);
      });
      started.then(
        (value) => {
          if (!ticket.settle()) return; // given up already
          this.breaker.success();
          resolve(value);
        },
        (err: unknown) => {
          if (!ticket.settle()) return;
          if (err instanceof CacheKeyError || err instanceof CacheSerializationError) return reject(err);
          this.breaker.failure(err);
          resolve(UNAVAILABLE);
        },
      );
    });
  }
}
