/**
 * Rate-limit decisions: `RateLimiter.consume(key)` of each algorithm (RateLimitModule on the shared RedisModule client)
 * vs `@nest-lab/throttler-storage-redis` `increment` on its documented defaults (`new ThrottlerStorageRedisService(url)`:
 * its own ioredis client), the fixed window people use today. Clients under their limit, 1000 keys in turn, at 1 and
 * 50 callers. Target 1.1.
 */
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { RateLimitModule, RateLimitService, RATE_LIMIT_ALGORITHMS, type RateLimiter } from '../../src';
import type { RedisServer } from '../../test/support/redis-harness';
import { featureApp, type PeerCase, type PeerGroup } from './peer-suite';

/** The ratio each decision must reach against the peer's increment. */
const RATE_LIMIT_TARGET = 1.1;
const WINDOW_MS = 60_000;
/** Never reached during a run: every call is a decision that allows. */
const LIMIT = 1_000_000_000;
const KEYS = 1_000;

export const ratelimitPeers: PeerGroup = {
  name: 'ratelimit',
  setup: async (server: RedisServer) => {
    const app = await featureApp(server, 'peers-rl', [RateLimitModule.forRoot()]);
    const limits = app.get(RateLimitService);
    const peer = new ThrottlerStorageRedisService(server.url);
    let i = 0;
    const key = () => `client-${i++ % KEYS}`;
    const peerOp = () => peer.increment(key(), WINDOW_MS, LIMIT, WINDOW_MS, 'default');
    const cases: PeerCase[] = [];
    for (const algorithm of RATE_LIMIT_ALGORITHMS) {
      const limiter: RateLimiter = limits.limiter({
        name: `bench-${algorithm}`,
        algorithm,
        limit: LIMIT,
        windowMs: WINDOW_MS,
      });
      const ours = () => limiter.consume(key());
      for (const callers of [1, 50]) {
        cases.push({
          case: `${algorithm} consume / @nest-lab/throttler-storage-redis increment`,
          callers,
          ours,
          peer: peerOp,
          target: RATE_LIMIT_TARGET,
        });
      }
    }
    return {
      cases,
      teardown: async () => {
        peer.onModuleDestroy();
        await app.close();
      },
    };
  },
};
