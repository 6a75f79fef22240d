/**
 * Cache get / set through cache-manager 7: CACHE_MANAGER as RedisCacheModule wires it (our Keyv store on the
 * shared ioredis client) vs `@keyv/redis` (node-redis) through cache-manager 7, as its docs show:
 * `createCache({ stores: [new Keyv({ store: new KeyvRedis(url) })] })`. 1, 16 and 50 callers; the same value.
 */
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import KeyvRedis from '@keyv/redis';
import { createCache, type Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import { RedisCacheModule } from '../../src';
import type { RedisServer } from '../../test/support/redis-harness';
import { USER_VALUE } from '../support/bench-values';
import { featureApp, PEER_TARGET, type PeerCase, type PeerGroup } from './peer-suite';

const TTL_MS = 600_000;
const VALUE = USER_VALUE;

export const cachePeers: PeerGroup = {
  name: 'cache',
  setup: async (server: RedisServer) => {
    // readTimeoutMs 1 s instead of 100 ms: on a loaded machine a read late by 100 ms would be a fail-open miss (fast,
    // and not a hit); the hot path costs the same whatever the bound.
    const app = await featureApp(server, 'peers-cache', [
      RedisCacheModule.forRoot({ defaultTtlMs: TTL_MS, readTimeoutMs: 1_000 }),
    ]);
    const ours = app.get<Cache>(CACHE_MANAGER);
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
        await peer.disconnect();
        await app.close();
      },
    };
  },
};
