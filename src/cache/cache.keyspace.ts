import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisUnavailableError } from '../redis/redis.errors';
import { CacheRedis, type OrUnavailable } from './cache-redis';
import { CacheKeys } from './cache.keys';

/** SCAN page size of {@link CacheKeyspace.clear}. */
const SCAN_COUNT = 1000;

/**
 * Removing cache keys in bulk, for CacheService and every Keyv store: UNLINK of known keys, and a clear of everything
 * under a key prefix with SCAN + UNLINK on every master (never FLUSHDB or KEYS). Internal to the cache.
 */
@Injectable()
export class CacheKeyspace {
  constructor(private readonly redis: CacheRedis) {}

  /**
   * Removes full Redis keys: one UNLINK, or one per key on Cluster (keys span slots). Skipped while Redis fails.
   * @returns how many existed, or UNAVAILABLE
   */
  unlink(fullKeys: readonly string[]): Promise<OrUnavailable<number>> {
    const client = this.redis.client;
    return this.redis.write(async () =>
      client.isCluster
        ? (await Promise.all(fullKeys.map((k) => client.unlink(k)))).reduce((a, b) => a + b, 0)
        : (client as Redis).unlink(...fullKeys),
    );
  }

  /**
   * Removes every key that starts with `keyPrefix`, except those that start with `keep` (another part of the cache's
   * key space, e.g. the namespaced entries), on every master.
   * @returns how many keys were removed
   * @throws RedisUnavailableError when Redis cannot be reached
   */
  async clear(keyPrefix: string, keep?: string): Promise<number> {
    const client = this.redis.client;
    const nodes: Redis[] = client.isCluster
      ? (client as unknown as { nodes(role: 'master'): Redis[] }).nodes('master')
      : [client as Redis];
    const match = CacheKeys.patternFor(keyPrefix);
    let removed = 0;
    try {
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
          cursor = next;
          const keys = keep === undefined ? found : found.filter((k) => !k.startsWith(keep));
          if (keys.length > 0) {
            // One UNLINK per key: on a Cluster node, keys of one SCAN page span many slots.
            const pipe = node.pipeline();
            for (const k of keys) pipe.unlink(k);
            const results = (await pipe.exec()) ?? [];
            removed += results.reduce((sum, [err, n]) => sum + (err ? 0 : Number(n)), 0);
          }
        } while (cursor !== '0');
      }
    } catch (err) {
      throw new RedisUnavailableError(
        `Could not clear the cache: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    return removed;
  }
}
