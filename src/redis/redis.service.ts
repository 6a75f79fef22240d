import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DEFAULT_REDIS_CLIENT, REDIS_CONNECTIONS } from './redis.constants';
import type { DuplicateOptions, RedisConnections, TrackedConnection } from './redis.connections';
import type { RedisClient, RedisConnectionOptions } from './redis.options';

/**
 * The shared Redis provider: named clients, dedicated connections for subscribers and blocking
 * readers, and the key prefix every feature starts its keys with. The only place a connection is made.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CONNECTIONS) private readonly connections: RedisConnections) {}

  /** Start of every key the library writes, e.g. `nrk:`. Features append their own part (`cache:`). */
  get keyPrefix(): string {
    return this.connections.options.keyPrefix;
  }

  /**
   * The key prefix of one feature: `<keyPrefix><feature>:`.
   * @param feature e.g. `cache`, `sess`, `lock`, `msg`
   */
  prefixFor(feature: string): string {
    return `${this.keyPrefix}${feature}:`;
  }

  /** The client registered under `name` (default `default`). Throws naming the known clients otherwise. */
  getClient(name: string = DEFAULT_REDIS_CLIENT): RedisClient {
    return this.connections.get(name).client;
  }

  /** True when the client `name` is a Redis Cluster client. */
  isCluster(name: string = DEFAULT_REDIS_CLIENT): boolean {
    return this.connections.get(name).client.isCluster;
  }

  /**
   * A dedicated connection to the same deployment as client `name`, for a subscriber or a blocking
   * reader. The module tracks it, reports it in health checks and closes it on shutdown.
   * @param purpose short label, e.g. `subscriber`, `stream-reader`
   */
  duplicate(name: string = DEFAULT_REDIS_CLIENT, purpose = 'dedicated', options: DuplicateOptions = {}): RedisClient {
    return this.connections.duplicate(name, purpose, options);
  }

  /**
   * Creates and tracks an additional client (e.g. an independent lock node), closed on shutdown.
   * @param wait wait until it is ready (up to the module's `readyTimeoutMs`) before resolving
   */
  createClient(name: string, options: RedisConnectionOptions, wait = true): Promise<RedisClient> {
    return this.connections.add(name, options, wait);
  }

  /** Closes one dedicated connection made by {@link duplicate} before shutdown. */
  release(client: RedisClient): Promise<void> {
    return this.connections.release(client);
  }

  /** Every connection the module knows (configured and dedicated), for health checks and metrics. */
  listConnections(): readonly TrackedConnection[] {
    return this.connections.list();
  }

  /** Shutdown, last phase: features have stopped in earlier hooks; quit the clients this module created. */
  async onApplicationShutdown(): Promise<void> {
    await this.connections.closeAll();
  }
}
