/**
 * Throttler storage `increment`, as @nestjs/throttler's guard calls it once per request: RedisThrottlerStorage on
 * the shared RedisModule client vs `@nest-lab/throttler-storage-redis` on its documented defaults
 * (`new ThrottlerStorageRedisService(url)`: its own ioredis client with ioredis's defaults). Trackers under their
 * limit at 1 and 50 callers (1000 trackers in turn), and one tracker over its limit (blocked) at 50 callers.
 */
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { RedisService, RedisThrottlerStorage } from '../../src';
import type { RedisServer } from '../../test/support/redis-harness';
import { featureApp, PEER_TARGET, type PeerGroup } from './peer-suite';

const TTL_MS = 60_000;
/** Window and block of the tracker kept over its limit: longer than the run, so it stays blocked throughout. */
const HOT_TTL_MS = 3_600_000;
const TRACKERS = 1_000;

export const throttlerPeers: PeerGroup = {
  name: 'throttler',
  setup: async (server: RedisServer) => {
    const app = await featureApp(server, 'peers-thr', []);
    const ours = new RedisThrottlerStorage(app.get(RedisService));
    const peer = new ThrottlerStorageRedisService(server.url);
    let i = 0;
    const tracker = () => `tracker-${i++ % TRACKERS}`;
    // @nestjs/throttler's defaults: the block lasts as long as the window.
    const under = (s: RedisThrottlerStorage | ThrottlerStorageRedisService) => () =>
      s.increment(tracker(), TTL_MS, 1_000_000_000, TTL_MS, 'default');
    const over = (s: RedisThrottlerStorage | ThrottlerStorageRedisService) => async () => {
      const r = await s.increment('hot', HOT_TTL_MS, 10, HOT_TTL_MS, 'default');
      if (!r.isBlocked && r.totalHits > 10) throw new Error('a tracker over its limit was not blocked');
    };
    // Put the hot tracker over its limit on both sides.
    for (let n = 0; n < 11; n++) {
      await over(ours)();
      await over(peer)();
    }
    return {
      cases: [
        {
          case: 'increment: RedisThrottlerStorage / @nest-lab/throttler-storage-redis',
          callers: 1,
          ours: under(ours),
          peer: under(peer),
          target: PEER_TARGET,
        },
        {
          case: 'increment: RedisThrottlerStorage / @nest-lab/throttler-storage-redis',
          callers: 50,
          ours: under(ours),
          peer: under(peer),
          target: PEER_TARGET,
        },
        {
          case: 'increment, one tracker over its limit: ours / @nest-lab',
          callers: 50,
          ours: over(ours),
          peer: over(peer),
          target: PEER_TARGET,
        },
      ],
      teardown: async () => {
        peer.onModuleDestroy();
        await app.close();
      },
    };
  },
};
