import type { Cluster } from 'ioredis';
import { toRedisUnavailable } from '../redis/redis.errors';
import type { RedisClient } from '../redis/redis.options';
import type { SessionKeys } from './session.keys';

/**
 * How many sessions Redis holds now: a SCAN of the feature's keys on the node, or on every master of a Cluster,
 * counting the session keys only. O(keys of the feature): for a metrics scrape or an admin page, not per request.
 * @throws RedisUnavailableError when a node cannot be reached
 */
export async function countActiveSessions(client: RedisClient, keys: SessionKeys): Promise<number> {
  const nodes = client.isCluster ? (client as Cluster).nodes('master') : [client];
  let count = 0;
  try {
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', keys.scanPattern, 'COUNT', '1000');
        cursor = next;
        for (const key of found) if (keys.isSession(key)) count++;
      } while (cursor !== '0');
    }
  } catch (err) {
    throw toRedisUnavailable(err, 'Could not count the sessions');
  }
  return count;
}
