/**
 * Every library method decorator composes with every other on one method, whatever order they are written in:
 * the one method explorer reads each decorator's metadata from the original method and wraps in a fixed order
 * (lock outermost, then cache-evict, cache-put, cacheable), and listeners (@OnMessage, @StreamConsumer) receive
 * the fully wrapped method. Each pair is checked for doing what both decorators promise. Topology-aware.
 */
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  CacheEvict,
  CachePut,
  Cacheable,
  CacheService,
  EventBus,
  LockModule,
  LockService,
  MessagingModule,
  OnMessage,
  RedisCacheModule,
  RedisModule,
  StreamConsumer,
  StreamProducer,
  WithLock,
} from '../src';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';

interface Item {
  id: string;
}

/** What each method body saw: which lock was held while it ran. */
const runs: Array<{ method: string; id: string; locked: readonly string[] | undefined }> = [];
let locks: LockService | undefined;
const record = (method: string, id: string) => runs.push({ method, id, locked: locks?.current()?.resources });
const ran = (method: string) => runs.filter((r) => r.method === method);

@Injectable()
class Composed {
  private version = 0;

  @Cacheable({ key: (id: unknown) => `lc:${String(id)}` })
  @WithLock('lc:{0}', { ttlMs: 2_000, waitMs: 0 })
  async lockCacheable(id: string): Promise<string> {
    record('lockCacheable', id);
    return `v${++this.version}`;
  }

  @WithLock('lp:{0}', { ttlMs: 2_000, waitMs: 0 })
  @CachePut({ key: (id: unknown) => `lp:${String(id)}` })
  async lockPut(id: string): Promise<string> {
    record('lockPut', id);
    return `put-${id}`;
  }

  @CacheEvict({ keys: ['ce:other'] })
  @Cacheable({ key: (id: unknown) => `ce:${String(id)}` })
  async cacheableEvict(id: string): Promise<string> {
    record('cacheableEvict', id);
    return `c-${id}`;
  }

  @OnMessage('comp.lock')
  @WithLock('ml:{0.id}', { ttlMs: 2_000, waitMs: 1_000 })
  async lockOnMessage(item: Item): Promise<void> {
    record('lockOnMessage', item.id);
  }

  @WithLock('sl:{0.id}', { ttlMs: 2_000, waitMs: 1_000 })
  @StreamConsumer({ stream: 'comp-lock', group: 'g', blockMs: 100 })
  async lockStream(item: Item): Promise<void> {
    record('lockStream', item.id);
  }

  @OnMessage('comp.cacheable')
  @Cacheable({ key: (item: unknown) => `mc:${(item as Item).id}` })
  async cacheableOnMessage(item: Item): Promise<string> {
    record('cacheableOnMessage', item.id);
    return item.id;
  }

  @CacheEvict({ keys: (item: unknown) => [`me:${(item as Item).id}`] })
  @OnMessage('comp.evict')
  async evictOnMessage(item: Item): Promise<void> {
    record('evictOnMessage', item.id);
  }

  @StreamConsumer({ stream: 'comp-evict', group: 'g', blockMs: 100 })
  @CacheEvict({ keys: (item: unknown) => [`se:${(item as Item).id}`] })
  async evictStream(item: Item): Promise<void> {
    record('evictStream', item.id);
  }

  @CachePut({ key: (item: unknown) => `sp:${(item as Item).id}` })
  @StreamConsumer({ stream: 'comp-put', group: 'g', blockMs: 100 })
  async putStream(item: Item): Promise<string> {
    record('putStream', item.id);
    return `stored-${item.id}`;
  }

  @StreamConsumer({ stream: 'comp-both', group: 'g', blockMs: 100 })
  @OnMessage('comp.both')
  async both(item: Item): Promise<void> {
    record('both', item.id);
  }
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe(`Library decorators composed on one method (${testTopology()})`, () => {
  let redis: TestRedis;
  let ref: TestingModule;
  let svc: Composed;
  let cache: CacheService;
  let bus: EventBus;
  let producer: StreamProducer;

  beforeAll(async () => {
    redis = await startTestRedis();
    ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ ...redis.connection, keyPrefix: uniquePrefix('compose') }),
        RedisCacheModule.forRoot({}),
        LockModule.forRoot({}),
        MessagingModule.forRoot({ consumerDefaults: { blockMs: 100 } }),
      ],
      providers: [Composed],
    }).compile();
    await ref.init();
    locks = ref.get(LockService);
    svc = ref.get(Composed);
    cache = ref.get(CacheService);
    bus = ref.get(EventBus);
    producer = ref.get(StreamProducer);
  });
  afterAll(async () => {
    locks = undefined;
    await ref?.close();
    await redis?.stop();
  });
  beforeEach(() => runs.splice(0));

  it('@WithLock + @Cacheable: the call takes the lock, a miss loads under it, the next call is a hit (no load)', async () => {
    expect(await svc.lockCacheable('a')).toBe('v1');
    expect(await svc.lockCacheable('a')).toBe('v1');
    expect(ran('lockCacheable')).toEqual([{ method: 'lockCacheable', id: 'a', locked: ['lc:a'] }]);
    // A busy lock refuses the call, as the lock promises (the lock is outermost).
    const held = await locks!.acquire('lc:b', { ttlMs: 2_000 });
    await expect(svc.lockCacheable('b')).rejects.toThrow(/not acquired/);
    await held.release();
  });

  it('@WithLock + @CachePut: the method runs under the lock and its result is stored', async () => {
    expect(await svc.lockPut('x')).toBe('put-x');
    expect(ran('lockPut')).toEqual([{ method: 'lockPut', id: 'x', locked: ['lp:x'] }]);
    expect(await cache.get('lp:x')).toBe('put-x');
  });

  it('@Cacheable + @CacheEvict: the result is cached and the other key evicted on every call', async () => {
    await cache.set('ce:other', 'stale');
    expect(await svc.cacheableEvict('k')).toBe('c-k');
    expect(await cache.get('ce:other')).toBeUndefined();
    await cache.set('ce:other', 'stale again');
    expect(await svc.cacheableEvict('k')).toBe('c-k');
    expect(await cache.get('ce:other')).toBeUndefined();
    expect(ran('cacheableEvict')).toHaveLength(1);
  });

  it('@OnMessage + @WithLock: each message is handled under the lock named from its payload', async () => {
    await bus.publish('comp.lock', { id: 'm1' });
    await until(() => ran('lockOnMessage').length === 1);
    expect(ran('lockOnMessage')).toEqual([{ method: 'lockOnMessage', id: 'm1', locked: ['ml:m1'] }]);
  });

  it('@StreamConsumer + @WithLock: each stream message is handled under its lock', async () => {
    await producer.add('comp-lock', { id: 's1' });
    await until(() => ran('lockStream').length === 1);
    expect(ran('lockStream')).toEqual([{ method: 'lockStream', id: 's1', locked: ['sl:s1'] }]);
  });

  it('@OnMessage + @Cacheable: a repeated message is answered from the cache', async () => {
    await bus.publish('comp.cacheable', { id: 'c1' });
    await until(async () => (await cache.get('mc:c1')) === 'c1');
    await bus.publish('comp.cacheable', { id: 'c1' });
    await bus.publish('comp.cacheable', { id: 'c2' });
    await until(() => ran('cacheableOnMessage').some((r) => r.id === 'c2'));
    expect(ran('cacheableOnMessage').map((r) => r.id)).toEqual(['c1', 'c2']);
  });

  it('@OnMessage + @CacheEvict: handling a message evicts its key', async () => {
    await cache.set('me:e1', 'old');
    await bus.publish('comp.evict', { id: 'e1' });
    await until(async () => (await cache.get('me:e1')) === undefined);
    expect(ran('evictOnMessage').map((r) => r.id)).toEqual(['e1']);
  });

  it('@StreamConsumer + @CacheEvict: handling a stream message evicts its key', async () => {
    await cache.set('se:e2', 'old');
    await producer.add('comp-evict', { id: 'e2' });
    await until(async () => (await cache.get('se:e2')) === undefined);
    expect(ran('evictStream').map((r) => r.id)).toEqual(['e2']);
  });

  it('@StreamConsumer + @CachePut: the handler result is stored', async () => {
    await producer.add('comp-put', { id: 'p1' });
    await until(async () => (await cache.get('sp:p1')) === 'stored-p1');
    expect(ran('putStream').map((r) => r.id)).toEqual(['p1']);
  });

  it('@OnMessage + @StreamConsumer: both deliveries reach the method', async () => {
    await bus.publish('comp.both', { id: 'pub' });
    await producer.add('comp-both', { id: 'stream' });
    await until(() => ran('both').length === 2);
    expect(
      ran('both')
        .map((r) => r.id)
        .sort(),
    ).toEqual(['pub', 'stream']);
  });
});
