import { CACHE_MANAGER, type Cache } from '@nestjs/cache-manager';
import { Test, type TestingModule } from '@nestjs/testing';
import { Cluster } from 'ioredis';
import { CacheService, RedisCacheModule, RedisModule } from '../src';
import { startCluster, uniquePrefix, type RedisClusterHandle } from './support/redis-harness';

describe('RedisCacheModule on a 3-master Redis Cluster', () => {
  let cluster: RedisClusterHandle;
  let ref: TestingModule;
  let prefix: string;
  let direct: Cluster;

  beforeAll(async () => {
    cluster = await startCluster(3);
    prefix = uniquePrefix('ccl');
    ref = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ nodes: cluster.seeds, keyPrefix: prefix }), RedisCacheModule.forRoot()],
    }).compile();
    ref.useLogger(false);
    await ref.init();
    direct = new Cluster(cluster.seeds);
  });
  afterAll(async () => {
    direct?.disconnect();
    await ref?.close();
    await cluster?.stop();
  });

  const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);

  it('stores plain JSON across all masters; batch get/set/delete span slots', async () => {
    const cm = ref.get<Cache>(CACHE_MANAGER);
    await cm.mset(keys.map((key, i) => ({ key, value: { i }, ttl: 30_000 })));
    expect(await cm.mget(keys)).toEqual(keys.map((_, i) => ({ i })));
    expect(await direct.get(`${prefix}cache:k7`)).toBe('{"i":7}');
    // the keys really are spread over the three masters
    const perNode = await Promise.all(
      cluster.nodes.map(async (n) => {
        const c = n.client();
        const [, found] = await c.scan('0', 'MATCH', `${prefix}cache:*`, 'COUNT', 1000);
        c.disconnect();
        return found.length;
      }),
    );
    expect(perNode.filter((count) => count > 0)).toHaveLength(3);
    await cm.mdel(keys.slice(0, 10));
    expect((await cm.mget(keys.slice(0, 12))).filter((v) => v !== undefined)).toHaveLength(2);
  });

  it('clear() runs SCAN + UNLINK on every master and keeps other features’ keys', async () => {
    const cm = ref.get<Cache>(CACHE_MANAGER);
    await cm.mset(keys.map((key) => ({ key, value: 1 })));
    await direct.set(`${prefix}sess:x`, 's');
    await direct.set(`${prefix}lock:y`, 'l');
    await cm.clear();
    expect(await direct.get(`${prefix}sess:x`)).toBe('s');
    expect(await direct.get(`${prefix}lock:y`)).toBe('l');
    expect((await cm.mget(keys)).every((v) => v === undefined)).toBe(true);
  });

  it('near cache stays coherent on Cluster (invalidation messages through the dedicated subscriber)', async () => {
    const make = async () => {
      const m = await Test.createTestingModule({
        imports: [
          RedisModule.forRoot({ nodes: cluster.seeds, keyPrefix: prefix }),
          RedisCacheModule.forRoot({ nearCache: { maxEntries: 100 } }),
        ],
      }).compile();
      m.useLogger(false);
      await m.init();
      return m;
    };
    const [ma, mb] = [await make(), await make()];
    try {
      const a = ma.get(CacheService);
      const b = mb.get(CacheService);
      await a.set('near', 1);
      expect(await b.getOrSet('near', () => -1)).toBe(1);
      expect(await b.get('near')).toBe(1);
      expect(b.stats.nearHits).toBe(1);
      await a.set('near', 2);
      const deadline = Date.now() + 5_000;
      while (b.stats.invalidationsReceived < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await b.get('near')).toBe(2);
    } finally {
      await ma.close();
      await mb.close();
    }
  });

  it('getOrSet and tag invalidation work when keys and tags live in different slots', async () => {
    const cache = ref.get(CacheService);
    let n = 0;
    const load = async () => ++n;
    const items = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const k of items) await cache.getOrSet(k, load, { tags: ['catalog', `item-${k}`] });
    expect(n).toBe(6);
    for (const k of items) await cache.getOrSet(k, load, { tags: ['catalog', `item-${k}`] });
    expect(n).toBe(6);
    await cache.invalidateTags(['item-c']);
    await cache.getOrSet('c', load, { tags: ['catalog', 'item-c'] });
    expect(n).toBe(7);
    await cache.invalidateTags(['catalog']);
    for (const k of items) await cache.getOrSet(k, load, { tags: ['catalog', `item-${k}`] });
    expect(n).toBe(13);
    expect(cache.stats.errors).toBe(0);
  });
});
