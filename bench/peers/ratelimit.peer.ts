/**
 * Rate-limit decisions: `RateLimiter.consume(key)` of each algorithm (RateLimitModule on the shared RedisModule client)
 * vs `@nest-lab/throttler-storage-redis` `increment` on its documented defaults (`new ThrottlerStorageRedisService(url)`:
 * its own ioredis client), the fixed window people use today. Clients under their limit, 1000 keys in turn, at 1 and
 * 50 callers. Target 1.1. Ceilings: the least Redis work of a fixed window that tells its reset (an INCRBY + PTTL script)
 * and of a time-based decision (TIME, GET, SET PX in a script), each sent bare on a plain ioredis client, against the peer at 1 caller.
 */
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Redis } from 'ioredis';
import { RateLimitModule, RateLimitService, RATE_LIMIT_ALGORITHMS, type RateLimiter } from '../../src';
import type { RedisServer } from '../../test/support/redis-harness';
import { featureApp, type PeerCase, type PeerCeiling, type PeerGroup } from './peer-suite';

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
    const bare = new Redis(server.url);
    const incrSha = (await bare.script(
      'LOAD',
      "redis.call('INCRBY', KEYS[1], 1) return redis.call('PTTL', KEYS[1])",
    )) as string;
    const timedSha = (await bare.script(
      'LOAD',
      "local t = redis.call('TIME') redis.call('GET', KEYS[1]) redis.call('SET', KEYS[1], t[1], 'PX', 60000) return 1",
    )) as string;
    const bareKey = () => `peers-rl-ceiling:{${key()}}`;
    const ceilings: PeerCeiling[] = [
      {
        case: 'EVALSHA of INCRBY + PTTL (a fixed window telling its reset, at least) / increment',
        callers: 1,
        bare: () => bare.evalsha(incrSha, 1, bareKey()),
        peer: peerOp,
      },
      {
        case: 'EVALSHA of TIME + GET + SET PX (a time-based decision at least) / increment',
        callers: 1,
        bare: () => bare.evalsha(timedSha, 1, bareKey()),
        peer: peerOp,
      },
    ];
    return {
      cases,
      ceilings,
      teardown: async () => {
        bare.disconnect();
        peer.onModuleDestroy();
        await app.close();
      },
    };
  },
};
