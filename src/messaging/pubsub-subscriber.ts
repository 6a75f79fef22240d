import { toRedisUnavailable } from '../redis/redis.errors';
import type { RedisClient } from '../redis/redis.options';
import type { PubSubMode, RawMessageListener, SubscriptionKind } from './pubsub-mode';

/**
 * The dedicated subscriber connection of one event bus, opened on the first subscription (a connection in
 * subscriber mode can run no other command). Subscribes and unsubscribes with the commands of its
 * {@link PubSubMode} and hands every message to one listener. ioredis subscribes again by itself after a
 * reconnect.
 */
export class PubSubSubscriber {
  private connection: RedisClient | undefined;

  /**
   * @param mode the pub/sub commands and events to use
   * @param listener gets every message: the subscription id (`<kind>:<key>`) and the raw text
   */
  constructor(
    private readonly mode: PubSubMode,
    private readonly listener: RawMessageListener,
  ) {}

  /** True when the connection is open and ready (false before the first subscription). */
  get ready(): boolean {
    return this.connection?.status === 'ready';
  }

  /**
   * Subscribes to `key`; resolves once Redis confirmed it. Rejects with a {@link RedisUnavailableError} when Redis
   * is unreachable (within the client's command timeout), with Redis's own error otherwise.
   */
  async subscribe(kind: SubscriptionKind, key: string): Promise<void> {
    try {
      await this.mode.subscribe(this.open(), kind, key);
    } catch (err) {
      throw toRedisUnavailable(err, `Could not subscribe to "${key}"`);
    }
  }

  /** Unsubscribes from `keys` (all of one kind); nothing to do before the first subscription. */
  async unsubscribe(kind: SubscriptionKind, keys: string[]): Promise<void> {
    if (this.connection && keys.length > 0) await this.mode.unsubscribe(this.connection, kind, keys);
  }

  private open(): RedisClient {
    if (this.connection) return this.connection;
    const connection = this.mode.openSubscriber(this.listener);
    if (connection.status === 'wait') connection.connect().catch(() => undefined);
    this.connection = connection;
    return connection;
  }
}
