import { Cluster, type ClusterOptions } from 'ioredis';
import { CommandBatcher } from '../core/command-batcher';
import { RedisConfigError } from '../redis/redis.errors';
import type { RedisClient } from '../redis/redis.options';
import type { RedisService } from '../redis/redis.service';
import { PublishBatcher } from './pubsub-publish.batcher';
import { rememberLast } from './remember-last';

/** What a subscription listens to: one channel, or every channel matching a glob pattern. */
export type SubscriptionKind = 'channel' | 'pattern';

/** Receives every message of the subscriber connection: the registry id (`<kind>:<key>`) and the raw text. */
export type RawMessageListener = (id: string, text: string) => void;

/**
 * How pub/sub talks to Redis: which commands publish, (un)subscribe and which connection events carry
 * messages. `classic` (SUBSCRIBE/PSUBSCRIBE/PUBLISH) on a single server, Sentinel, or a Cluster with
 * `clusterPubSub: 'classic'`; `sharded` (SSUBSCRIBE/SPUBLISH, no patterns) on a Cluster by default.
 */
export interface PubSubMode {
  /** `classic` or `sharded`. */
  readonly name: 'classic' | 'sharded';
  /** Throws {@link RedisConfigError} when a subscription of `kind` is impossible in this mode. */
  assertSupports(kind: SubscriptionKind, channel: string): void;
  /**
   * Sends one message; resolves once Redis accepted it. Messages of one tick share a pipeline where the mode
   * allows it.
   * @param channel the app-facing channel (groups the pipeline per Cluster slot)
   * @param key the Redis channel
   */
  publish(channel: string, key: string, text: string): Promise<unknown>;
  /** Opens the dedicated subscriber connection (not yet connected) and routes its messages to `listener`. */
  openSubscriber(listener: RawMessageListener): RedisClient;
  /** SUBSCRIBE / SSUBSCRIBE / PSUBSCRIBE of one key; resolves once Redis confirmed it. */
  subscribe(subscriber: RedisClient, kind: SubscriptionKind, key: string): Promise<unknown>;
  /** The matching unsubscribe of `keys` (all of one kind). */
  unsubscribe(subscriber: RedisClient, kind: SubscriptionKind, keys: string[]): Promise<unknown>;
}

/** The registry id of a subscription: `channel:<key>` or `pattern:<key>`. */
export function subscriptionId(kind: SubscriptionKind, key: string): string {
  return `${kind}:${key}`;
}

/** SUBSCRIBE / PSUBSCRIBE / PUBLISH: every node of a Cluster relays every message; patterns work. */
class ClassicPubSub implements PubSubMode {
  readonly name = 'classic';
  private readonly batcher: PublishBatcher;

  constructor(
    private readonly redis: RedisService,
    private readonly clientName: string,
    private readonly cluster: boolean,
  ) {
    this.batcher = new PublishBatcher(() => redis.getClient(clientName));
  }

  assertSupports(): void {}

  publish(_channel: string, key: string, text: string): Promise<unknown> {
    // On a Cluster, PUBLISH goes to whichever node ioredis picks; elsewhere a tick's messages leave in one command.
    if (this.cluster) return this.redis.getClient(this.clientName).publish(key, text);
    return this.batcher.publish(key, text);
  }

  openSubscriber(listener: RawMessageListener): RedisClient {
    const sub = this.redis.duplicate(this.clientName, 'subscriber');
    // Messages mostly come in runs on one channel: the registry then looks up the same id string each time.
    const channelId = rememberLast((channel) => subscriptionId('channel', channel));
    const patternId = rememberLast((pattern) => subscriptionId('pattern', pattern));
    sub.on('message', (channel: string, text: string) => listener(channelId(channel), text));
    sub.on('pmessage', (pattern: string, _channel: string, text: string) => listener(patternId(pattern), text));
    return sub;
  }

  subscribe(subscriber: RedisClient, kind: SubscriptionKind, key: string): Promise<unknown> {
    return kind === 'pattern' ? subscriber.psubscribe(key) : subscriber.subscribe(key);
  }

  unsubscribe(subscriber: RedisClient, kind: SubscriptionKind, keys: string[]): Promise<unknown> {
    return kind === 'pattern' ? subscriber.punsubscribe(...keys) : subscriber.unsubscribe(...keys);
  }
}

/** SSUBSCRIBE / SPUBLISH on a Cluster: a message travels only through the shard owning its channel; no patterns. */
class ShardedPubSub implements PubSubMode {
  readonly name = 'sharded';
  private readonly batcher: CommandBatcher;

  constructor(
    private readonly redis: RedisService,
    private readonly clientName: string,
  ) {
    this.batcher = new CommandBatcher(() => redis.getClient(clientName));
  }

  assertSupports(kind: SubscriptionKind, channel: string): void {
    if (kind !== 'pattern') return;
    throw new RedisConfigError(
      'messaging.clusterPubSub',
      `pattern subscription "${channel}" is not possible with sharded pub/sub on Cluster; use exact channels or clusterPubSub: 'classic'`,
    );
  }

  publish(channel: string, key: string, text: string): Promise<unknown> {
    // One pipeline per channel: each channel has its own slot.
    return this.batcher.send(channel, ['SPUBLISH', key, text]);
  }

  openSubscriber(listener: RawMessageListener): RedisClient {
    const parent = this.redis.getClient(this.clientName);
    let sub: RedisClient;
    if (parent instanceof Cluster) {
      // RedisService.duplicate() copies the parent's Cluster options: switch sharded subscribers on for the copy
      // only (synchronously, so the shared client never sees the flag while it acts on it).
      const opts = parent.options as ClusterOptions;
      const before = opts.shardedSubscribers;
      opts.shardedSubscribers = true;
      try {
        sub = this.redis.duplicate(this.clientName, 'subscriber');
      } finally {
        opts.shardedSubscribers = before;
      }
    } else {
      sub = this.redis.duplicate(this.clientName, 'subscriber');
    }
    const channelId = rememberLast((channel) => subscriptionId('channel', channel));
    sub.on('smessage', (channel: string, text: string) => listener(channelId(channel), text));
    return sub;
  }

  subscribe(subscriber: RedisClient, _kind: SubscriptionKind, key: string): Promise<unknown> {
    return subscriber.ssubscribe(key);
  }

  unsubscribe(subscriber: RedisClient, _kind: SubscriptionKind, keys: string[]): Promise<unknown> {
    // One SUNSUBSCRIBE per channel: channels of different slots live on different nodes.
    return Promise.all(keys.map((key) => subscriber.sunsubscribe(key)));
  }
}

/**
 * The pub/sub mode of a client: `sharded` on a Cluster unless `clusterPubSub` is `classic`, `classic` everywhere
 * else.
 */
export function pubSubMode(redis: RedisService, clientName: string, clusterPubSub: 'sharded' | 'classic'): PubSubMode {
  const cluster = redis.isCluster(clientName);
  return cluster && clusterPubSub === 'sharded'
    ? new ShardedPubSub(redis, clientName)
    : new ClassicPubSub(redis, clientName, cluster);
}
