/**
 * Cache get / set through cache-manager 7: CACHE_MANAGER as RedisCacheModule wires it (our Keyv store on the
 * shared ioredis client) vs `@keyv/redis` (node-redis) through cache-manager 7, as its docs show:
 * `createCache({ stores: [new Keyv({ store: new KeyvRedis(url) })] })`. 1, 16 and 50 callers; the same value.
 *
 * BENCH_CPU_PLACEMENT (Linux, `taskset`) fixes where redis-server runs relative to this process while the group runs:
 * `split` (this process on core 0, Redis on core 1, as when Redis has a CPU of its own), `shared` (both on core 0);
 * default `free`: the scheduler decides, and on 2 cores it moves Redis between the two placements from one run (or
 * row) to the next, which moves the 16 and 50 caller rows by up to ±0.3 (see docs/performance.md).
 */
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import KeyvRedis from '@keyv/redis';
import { createCache, type Cache } from 'cache-manager';
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { Keyv } from 'keyv';
import { RedisCacheModule, RedisService } from '../../src';
import type { RedisServer } from '../../test/support/redis-harness';
import { USER_VALUE } from '../support/bench-values';
import { featureApp, PEER_TARGET, type PeerCase, type PeerGroup } from './peer-suite';

const TTL_MS = 600_000;
const VALUE = USER_VALUE;

/** Where redis-server runs relative to the bench process, see the file comment. */
type Placement = 'split' | 'shared' | 'free';

function placementOf(value: string | undefined): Placement {
  if (value === undefined || value === '' || value === 'free') return 'free';
  if (value === 'split' || value === 'shared') return value;
  throw new Error(`BENCH_CPU_PLACEMENT: "${value}" is not split, shared or free`);
}

/** Sets the CPU affinity of every thread of `pid` (`taskset -a -p -c <cpus> <pid>`). */
function pin(pid: number, cpuList: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
}

/**
 * Pins this process to core 0 and redis-server to core 1 (`split`) or core 0 (`shared`); returns what gives both
 * every core back. Nothing for `free`.
 */
async function place(placement: Placement, redis: { info(section: string): Promise<string> }): Promise<() => void> {
  if (placement === 'free') return () => undefined;
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  if (!Number.isSafeInteger(redisPid)) throw new Error('BENCH_CPU_PLACEMENT: no process_id in INFO server');
  pin(process.pid, '0');
  pin(redisPid, placement === 'split' ? '1' : '0');
  console.log(`cache: bench process on core 0, redis-server on core ${placement === 'split' ? 1 : 0}`);
  const all = `0-${cpus().length - 1}`;
  return () => {
    pin(process.pid, all);
    pin(redisPid, all);
  };
}

export const cachePeers: PeerGroup = {
  name: 'cache',
  setup: async (server: RedisServer) => {
    // readTimeoutMs 1 s instead of 100 ms: on a loaded machine a read late by 100 ms would be a fail-open miss (fast,
    // and not a hit); the hot path costs the same whatever the bound.
    const app = await featureApp(server, 'peers-cache', [
      RedisCacheModule.forRoot({ defaultTtlMs: TTL_MS, readTimeoutMs: 1_000 }),
    ]);
    const ours = app.get<Cache>(CACHE_MANAGER);
    const unpin = await place(placementOf(process.env.BENCH_CPU_PLACEMENT), app.get(RedisService).getClient());
    const peer = createCache({ stores: [new Keyv({ store: new KeyvRedis(server.url) })] });
    for (const [name, cache] of [
      ['ours', ours],
      ['@keyv/redis', peer],
    ] as const) {
      await cache.set('k', VALUE, TTL_MS);
      if (JSON.stringify(await cache.get('k')) !== JSON.stringify(VALUE)) throw new Error(`${name}: get is not a hit`);
    }
    let i = 0;
    const setKey = () => `s${i++ % 100}`;
    // A get answered undefined was not a hit (our store fails open: a read late under load is a miss): counted, so
    // that a row measured on misses is reported as such.
    const misses = { ours: 0, peer: 0 };
    const hit = (side: 'ours' | 'peer') => (value: unknown) => {
      if (value === undefined) misses[side]++;
    };
    const oursHit = hit('ours');
    const peerHit = hit('peer');

    const cases: PeerCase[] = [];
    for (const callers of [1, 16, 50]) {
      cases.push({
        case: 'get (hit): CACHE_MANAGER on our store / @keyv/redis',
        callers,
        ours: () => ours.get('k').then(oursHit),
        peer: () => peer.get('k').then(peerHit),
        target: PEER_TARGET,
      });
    }
    for (const callers of [1, 16, 50]) {
      cases.push({
        case: 'set: CACHE_MANAGER on our store / @keyv/redis',
        callers,
        ours: () => ours.set(setKey(), VALUE, TTL_MS),
        peer: () => peer.set(setKey(), VALUE, TTL_MS),
        target: PEER_TARGET,
      });
    }
    return {
      cases,
      teardown: async () => {
        if (misses.ours + misses.peer > 0) {
          console.warn(`cache: gets that missed (not hits): ours ${misses.ours}, @keyv/redis ${misses.peer}`);
        }
        unpin();
        await peer.disconnect();
        await app.close();
      },
    };
  },
};
