import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../redis/redis.options';

/** The nodes to SCAN: the client itself, or every master of a Cluster. */
export function mastersOf(client: RedisClient): Redis[] {
  return client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
}

/** Keys found by {@link scanKeys}, and whether the limit cut the scan short. */
export interface ScannedKeys {
  /** Keys found, at most the limit. */
  keys: string[];
  /** True when more keys matched than the limit. */
  truncated: boolean;
}

/**
 * SCANs `pattern` on every master with a COUNT hint, stopping at `limit` keys (never KEYS: the server is not
 * blocked). O(keys of the pattern's prefix): for an operator's page, not a hot path.
 * @param count the COUNT hint of each SCAN step
 * @param limit most keys returned
 */
export async function scanKeys(
  client: RedisClient,
  pattern: string,
  count: number,
  limit: number,
): Promise<ScannedKeys> {
  const keys = new Set<string>();
  for (const node of mastersOf(client)) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', String(count));
      cursor = next;
      for (const key of found) {
        if (keys.size >= limit) return { keys: [...keys], truncated: true };
        keys.add(key);
      }
    } while (cursor !== '0');
  }
  return { keys: [...keys], truncated: false };
}

/** The argument of a SCAN MATCH that matches `prefix` literally followed by anything. */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}
