import { Logger } from '@nestjs/common';
import type { RedisClient } from '../redis/redis.options';
import type { RedisService } from '../redis/redis.service';
import type { CacheRedis } from './cache-redis';
import type { NearCache } from './near-cache';

/** Invalidation message published on `<prefix>cache:inv`. */
export interface InvalidationMessage {
  /** Instance id of the sender (a process ignores its own messages). */
  i: string;
  /** Keys to drop. */
  k?: string[];
  /** Tags whose entries to drop. */
  t?: string[];
  /** Drop everything (after clear()). */
  c?: 1;
}

/** What {@link NearCacheInvalidation} works with. */
export interface NearCacheInvalidationOptions {
  /** The near cache kept coherent. */
  near: Pick<NearCache<object>, 'clear' | 'delete' | 'deleteTags'>;
  /** Identifies this process in the messages it sends. */
  instanceId: string;
  /** The channel, `<prefix>cache:inv`. */
  channel: string;
  /** RedisModule: the subscriber is a dedicated connection (`duplicate`) of `clientName`. */
  redisService: RedisService;
  /** RedisModule client the cache uses. */
  clientName: string;
  /** The cache's bounded, fail-open way to Redis: messages are published through it (skipped while Redis fails). */
  redis: CacheRedis;
  /** Called for each message received from another process (for the `invalidationsReceived` counter). */
  onReceived: () => void;
}

/**
 * Keeps the near caches of every process coherent: each change (a write, an eviction, a tag invalidation, a clear)
 * is published on `<prefix>cache:inv`, and each process drops what the messages of the others name. A dedicated
 * subscriber connection listens; when it reconnects the near cache is emptied, since messages sent meanwhile are lost.
 */
export class NearCacheInvalidation {
  private readonly logger = new Logger('Cache');
  private subscriber: RedisClient | undefined;
  private readyBefore = false;

  constructor(private readonly options: NearCacheInvalidationOptions) {}

  /** Opens the subscriber and subscribes (a failure is logged: the near cache then only expires by its TTL). */
  async start(): Promise<void> {
    const { redisService, clientName, channel, near } = this.options;
    const subscriber = redisService.duplicate(clientName, 'cache-invalidation');
    this.subscriber = subscriber;
    subscriber.on('ready', () => {
      // ioredis subscribes again on reconnect; messages sent meanwhile are lost, so start empty.
      if (this.readyBefore) near.clear('invalidation subscriber reconnected');
      this.readyBefore = true;
    });
    if (subscriber.status === 'ready') this.readyBefore = true;
    subscriber.on('message', (from: string, text: string) => {
      if (from === channel) this.receive(text);
    });
    try {
      await subscriber.subscribe(channel);
    } catch (err) {
      this.logger.warn(`Near cache: cannot subscribe to ${channel}: ${(err as Error).message}`);
    }
  }

  /** Closes the subscriber. */
  async stop(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber) await this.options.redisService.release(subscriber).catch(() => undefined);
  }

  /** Tells the other processes to drop these keys. */
  keysChanged(keys: string[]): void {
    this.publish({ i: this.options.instanceId, k: keys });
  }

  /** Tells the other processes to drop the entries carrying these tags. */
  tagsInvalidated(tags: string[]): void {
    this.publish({ i: this.options.instanceId, t: tags });
  }

  /** Tells the other processes to drop everything. */
  cleared(): void {
    this.publish({ i: this.options.instanceId, c: 1 });
  }

  private publish(message: InvalidationMessage): void {
    const { redis, channel } = this.options;
    void redis.write(() => redis.client.publish(channel, JSON.stringify(message)));
  }

  private receive(text: string): void {
    let message: InvalidationMessage;
    try {
      message = JSON.parse(text) as InvalidationMessage;
    } catch {
      return;
    }
    if (message.i === this.options.instanceId) return;
    const { near, onReceived } = this.options;
    onReceived();
    if (message.c) near.clear();
    if (message.k) near.delete(message.k);
    if (message.t) near.deleteTags(message.t);
  }
}
