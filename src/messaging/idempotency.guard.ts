import { Inject, Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';
import { MESSAGING_FEATURE } from './messaging.constants';
import { IdempotencyInProgressError } from './messaging.errors';
import { idempotencyKey } from './messaging.keys';
import type { ResolvedMessagingOptions } from './messaging.options';
import { MESSAGING_RESOLVED_OPTIONS } from './messaging.providers';

/** Result of {@link IdempotencyGuard.processOnce}. */
export type ProcessOnceResult<T> = { executed: true; result: T } | { executed: false };

/**
 * Makes at-least-once delivery safe: remembers processed message ids for `ttlMs` (SET NX PX on
 * `<prefix>msg:done:<id>`), so a redelivered message is not applied twice.
 */
@Injectable()
export class IdempotencyGuard {
  constructor(
    private readonly redis: RedisService,
    @Inject(MESSAGING_RESOLVED_OPTIONS) private readonly options: ResolvedMessagingOptions,
  ) {}

  /** The key that records id `id`. */
  key(id: string): string {
    return idempotencyKey(this.redis.prefixFor(MESSAGING_FEATURE), id);
  }

  /**
   * Runs `fn` unless `id` was already processed within `ttlMs`. While `fn` runs the id is marked
   * `running` (for at most `runningTtlMs`, default 60000): a concurrent call for the same id throws
   * {@link IdempotencyInProgressError} (so a stream consumer retries later). When `fn` throws, the mark is
   * removed, so a retry runs it again. When `fn` succeeds the id is marked `done` for `ttlMs`.
   */
  async processOnce<T>(
    id: string,
    ttlMs: number,
    fn: () => Promise<T> | T,
    runningTtlMs = 60_000,
  ): Promise<ProcessOnceResult<T>> {
    const client = this.redis.getClient(this.options.clientName);
    const key = this.key(id);
    const set = await client.set(key, 'running', 'PX', Math.min(runningTtlMs, ttlMs), 'NX');
    if (set !== 'OK') {
      const state = await client.get(key);
      if (state === 'running') throw new IdempotencyInProgressError(id);
      if (state === 'done') return { executed: false };
      // Expired between the two calls: try once more.
      return this.processOnce(id, ttlMs, fn, runningTtlMs);
    }
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      await client.del(key).catch(() => undefined);
      throw err;
    }
    await client.set(key, 'done', 'PX', ttlMs);
    return { executed: true, result };
  }

  /** True when `id` is recorded as processed. */
  async isDone(id: string): Promise<boolean> {
    return (await this.redis.getClient(this.options.clientName).get(this.key(id))) === 'done';
  }
}
