/**
 * RedisKeyvStore against Keyv 5's documented store behaviour (the cases of Keyv's own store test suite: values, TTL,
 * namespaces, many-key calls, clear, has), in the three ways a Keyv can use it:
 * - Keyv's defaults (its serializer; namespace `keyv`), as a user who reads Keyv's docs writes `new Keyv({ store })`;
 * - plain JSON: no serializer, as `createRedisKeyv` wires it behind CACHE_MANAGER (and a namespaced variant);
 * - a serializer of the user's own (here v8's structured clone, which also carries BigInt, Date and Map).
 * Then cache-manager 7's API through CACHE_MANAGER: get / set / del / mget / mset / ttl / wrap / clear.
 * Topology-aware: one redis-server, or a 3-master cluster with REDIS_TOPOLOGY=cluster.
 */
import { deserialize as v8Deserialize, serialize as v8Serialize } from 'node:v8';
import { CACHE_MANAGER, type Cache } from '@nestjs/cache-manager';
import { Test, type TestingModule } from '@nestjs/testing';
import { Keyv, type DeserializedData } from 'keyv';
import {
  CacheSerializationError,
  CacheService,
  createRedisKeyv,
  RedisCacheModule,
  RedisKeyvStore,
  RedisModule,
} from '../src';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';
import { sleep } from '../src/core/deadline';

/** Waits until `check` holds (a TTL ran out in Redis); fails after `timeoutMs`. */
async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

const v8Serializer = {
  serialize: (data: DeserializedData<unknown>): string => v8Serialize(data).toString('base64'),
  deserialize: <Value>(text: string): DeserializedData<Value> =>
    v8Deserialize(Buffer.from(text, 'base64')) as DeserializedData<Value>,
};

/** One way to put a Keyv on the store. */
interface Configuration {
  name: string;
  /** A Keyv on a store of its own; `namespace` given: that namespace, else the configuration's default. */
  make(store: RedisKeyvStore, namespace?: string): Keyv;
  /** The Redis key of Keyv key `k` without a namespace argument, from `<prefix>cache:`. */
  storedKey(k: string): string;
  /** Plain JSON: values without a JSON form are refused; the text in Redis is the value itself. */
  plainJson: boolean;
}

const CONFIGURATIONS: Configuration[] = [
  {
    name: "Keyv's defaults: new Keyv({ store })",
    make: (store, namespace) => new Keyv({ store, ...(namespace ? { namespace } : {}) }),
    storedKey: (k) => `ns:keyv:keyv:${k}`, // the store's namespace part, then Keyv's own key prefix
    plainJson: false,
  },
  {
    name: 'plain JSON: createRedisKeyv (as behind CACHE_MANAGER)',
    make: (store, namespace) =>
      namespace
        ? new Keyv({ store, namespace, serialize: undefined, deserialize: undefined, throwOnErrors: true })
        : createRedisKeyv(store, 60_000),
    storedKey: (k) => k,
    plainJson: true,
  },
  {
    name: 'a serializer of your own (v8)',
    make: (store, namespace) => new Keyv({ store, ...v8Serializer, ...(namespace ? { namespace } : {}) }),
    storedKey: (k) => `ns:keyv:keyv:${k}`,
    plainJson: false,
  },
];

describe(`RedisKeyvStore honours Keyv 5's store contract (${testTopology()})`, () => {
  let redis: TestRedis;
  let prefix: string;
  let ref: TestingModule;
  let store: RedisKeyvStore;

  beforeAll(async () => {
    redis = await startTestRedis();
    prefix = uniquePrefix('keyv');
    ref = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ ...redis.connection, keyPrefix: prefix }), RedisCacheModule.forRoot()],
    }).compile();
    ref.useLogger(false);
    await ref.init();
    store = ref.get(RedisKeyvStore);
  });
  afterAll(async () => {
    await ref?.close();
    await redis?.stop();
  });

  describe.each(CONFIGURATIONS)('$name', (config) => {
    let keyv: Keyv;
    const make = (namespace?: string) => config.make(store.clone(), namespace);

    beforeEach(async () => {
      keyv = make();
      await keyv.clear();
    });

    it.each<[string, unknown]>([
      ['false', false],
      ['null', null],
      ['0', 0],
      ['a negative float', -12.5],
      ["''", ''],
      ['a string', 'bar'],
      ['a string with quotes', `"it's" \\ "quoted"`],
      ['a string starting with a colon', ':base64:not really'],
      ['a string starting with the store marks', '~B{}'],
      ['unicode', 'é 漢字 🙂'],
      ['a nested object', { a: { b: [1, { c: 'd' }], e: null, f: false } }],
      ['an array', [0, '', null, [true]]],
      ['a Buffer', Buffer.from([0, 1, 2, 255])],
      ['an object holding Buffers', { buff: Buffer.from('buzz'), list: [Buffer.from('x')], n: 1 }],
    ])('%s round-trips exactly', async (_name, value) => {
      expect(await keyv.set('foo', value)).toBe(true);
      const back = await keyv.get('foo');
      expect(back).toEqual(value);
      if (Buffer.isBuffer(value)) expect(Buffer.isBuffer(back)).toBe(true);
      if (typeof value === 'object' && value !== null && 'buff' in value) {
        expect(Buffer.isBuffer((back as { buff: unknown }).buff)).toBe(true);
      }
    });

    it('undefined: what Keyv documents (get answers undefined), or refused in plain JSON', async () => {
      if (config.plainJson) {
        await expect(keyv.set('foo', undefined)).rejects.toBeInstanceOf(CacheSerializationError);
        expect(await keyv.has('foo')).toBe(false);
      } else {
        await keyv.set('foo', undefined);
        expect(await keyv.get('foo')).toBeUndefined();
      }
    });

    it('values JSON cannot carry: refused in plain JSON, carried by a serializer that can', async () => {
      const value = { big: 10n, at: new Date('2026-01-02T03:04:05.000Z'), map: new Map([['a', 1]]) };
      if (config.plainJson) {
        await expect(keyv.set('foo', value)).rejects.toBeInstanceOf(CacheSerializationError);
        expect(await keyv.get('foo')).toBeUndefined();
      } else if (config.name.includes('v8')) {
        await keyv.set('foo', value);
        expect(await keyv.get('foo')).toEqual(value);
      }
    });

    it('stores under <prefix>cache:, with the store namespace part only when Keyv has a namespace', async () => {
      await keyv.set('foo', { a: 1 });
      const direct = redis.client();
      try {
        const text = await direct.get(`${prefix}cache:${config.storedKey('foo')}`);
        if (config.plainJson) expect(text).toBe('{"a":1}');
        else expect(text?.startsWith('~')).toBe(true);
      } finally {
        direct.disconnect();
      }
    });

    it('get / delete / has on absent and present keys', async () => {
      expect(await keyv.get('foo')).toBeUndefined();
      expect(await keyv.has('foo')).toBe(false);
      expect(await keyv.delete('foo')).toBe(false);
      await keyv.set('foo', 'bar');
      expect(await keyv.has('foo')).toBe(true);
      expect(await keyv.has('fizz')).toBe(false);
      expect(await keyv.delete('foo')).toBe(true);
      expect(await keyv.get('foo')).toBeUndefined();
    });

    it('TTLs are milliseconds: set(key, value, ttl) expires, the default ttl applies, 0 means none', async () => {
      await keyv.set('short', 'bar', 300);
      expect(await keyv.get('short')).toBe('bar');
      const direct = redis.client();
      try {
        const pttl = await direct.pttl(`${prefix}cache:${config.storedKey('short')}`);
        expect(pttl).toBeGreaterThan(0);
        expect(pttl).toBeLessThanOrEqual(300);
        await waitFor(async () => (await keyv.get('short')) === undefined);
        expect(await keyv.has('short')).toBe(false);

        const withDefault = config.plainJson ? keyv : config.make(store.clone());
        withDefault.ttl = 30_000;
        await withDefault.set('defaulted', 1);
        const defaulted = await direct.pttl(`${prefix}cache:${config.storedKey('defaulted')}`);
        expect(defaulted).toBeGreaterThan(25_000);
        expect(defaulted).toBeLessThanOrEqual(30_000);

        withDefault.ttl = undefined;
        await withDefault.set('forever', 1, 0);
        expect(await direct.pttl(`${prefix}cache:${config.storedKey('forever')}`)).toBe(-1);
      } finally {
        direct.disconnect();
      }
    });

    it('many-key calls: get([keys]) / getMany, setMany, delete([keys]) / deleteMany, hasMany', async () => {
      await keyv.set('foo', 'bar', 3_000);
      await keyv.set('foo2', { n: 2 }, 3_000);
      expect(await keyv.get(['foo', 'foo1', 'foo2'])).toEqual(['bar', undefined, { n: 2 }]);
      expect(await keyv.getMany(['nope', 'nope2'])).toEqual([undefined, undefined]);

      await keyv.setMany([
        { key: 'm1', value: false },
        { key: 'm2', value: Buffer.from('two'), ttl: 3_000 },
        { key: 'm3', value: [1] },
      ]);
      const many = await keyv.getMany(['m1', 'm2', 'm3']);
      expect(many).toEqual([false, Buffer.from('two'), [1]]);
      expect(Buffer.isBuffer(many[1])).toBe(true);
      expect(await keyv.hasMany(['m1', 'zz', 'm3'])).toEqual([true, false, true]);

      expect(await keyv.delete(['m1', 'm2', 'm3'])).toBe(true);
      expect(await keyv.getMany(['m1', 'm2', 'm3'])).toEqual([undefined, undefined, undefined]);
      expect(await keyv.deleteMany(['m1', 'm2'])).toBe(false);
    });

    it('clear() removes every key of this Keyv and resolves to undefined', async () => {
      expect(await keyv.clear()).toBeUndefined();
      await keyv.set('foo', 'bar');
      await keyv.set('fizz', 'buzz');
      expect(await keyv.clear()).toBeUndefined();
      expect(await keyv.get('foo')).toBeUndefined();
      expect(await keyv.get('fizz')).toBeUndefined();
    });

    it('namespaces: set / get / delete / clear of one never touch another', async () => {
      const keyv1 = make('keyv1');
      const keyv2 = make('keyv2');
      const plain = createRedisKeyv(store.clone(), 60_000); // no namespace, as CACHE_MANAGER
      await Promise.all([keyv1.clear(), keyv2.clear()]);
      await keyv1.set('foo', 'keyv1');
      await keyv1.set('bar', 'keyv1');
      await keyv2.set('foo', 'keyv2');
      await keyv2.set('bar', 'keyv2');
      await plain.set('foo', 'plain');
      expect(await keyv1.get('foo')).toBe('keyv1');
      expect(await keyv2.get('foo')).toBe('keyv2');

      expect(await keyv1.delete('foo')).toBe(true);
      expect(await keyv1.get('foo')).toBeUndefined();
      expect(await keyv2.get('foo')).toBe('keyv2');

      await keyv1.clear();
      expect(await keyv1.get('bar')).toBeUndefined();
      expect(await keyv2.get('foo')).toBe('keyv2');
      expect(await keyv2.get('bar')).toBe('keyv2');
      expect(await plain.get('foo')).toBe('plain');

      await plain.clear(); // the cache without a namespace: namespaced stores keep their keys
      expect(await plain.get('foo')).toBeUndefined();
      expect(await keyv2.get('bar')).toBe('keyv2');
      await keyv2.clear();
      expect(await redis.keys(`${prefix}cache:ns:keyv2:*`)).toEqual([]);
    });
  });

  it('namespaces that only a separator tells apart get distinct keys', async () => {
    const a = new Keyv({ store: store.clone(), namespace: 'a:b', useKeyPrefix: false });
    const b = new Keyv({ store: store.clone(), namespace: 'a', useKeyPrefix: false });
    await a.set('c', 'from a:b');
    await b.set('b:c', 'from a');
    expect(await a.get('c')).toBe('from a:b');
    expect(await b.get('b:c')).toBe('from a');
    await b.clear();
    expect(await a.get('c')).toBe('from a:b');
    await a.clear();
  });

  describe("cache-manager 7's API through CACHE_MANAGER", () => {
    let cm: Cache;
    beforeEach(async () => {
      cm = ref.get<Cache>(CACHE_MANAGER);
      await cm.clear();
    });

    it('get / set / del / mget / mset round-trip values exactly, Buffers included', async () => {
      const values: Array<[string, unknown]> = [
        ['f', false],
        ['z', 0],
        ['e', ''],
        ['n', null],
        ['q', 'say "hi"'],
        ['o', { nested: { list: [1, 'two'] } }],
        ['b', Buffer.from('bytes')],
        ['ob', { img: Buffer.from([1, 2, 3]) }],
      ];
      for (const [k, v] of values) await cm.set(k, v, 10_000);
      for (const [k, v] of values) expect(await cm.get(k)).toEqual(v);
      expect(Buffer.isBuffer(await cm.get('b'))).toBe(true);
      expect(await cm.mget(['f', 'missing', 'o'])).toEqual([false, undefined, { nested: { list: [1, 'two'] } }]);
      await cm.mset<unknown>([
        { key: 'm1', value: 1 },
        { key: 'm2', value: Buffer.from('m2'), ttl: 5_000 },
      ]);
      expect(await cm.mget(['m1', 'm2'])).toEqual([1, Buffer.from('m2')]);
      expect(await cm.del('f')).toBe(true);
      expect(await cm.get('f')).toBeUndefined();
      await expect(cm.set('big', { n: 1n })).rejects.toBeInstanceOf(CacheSerializationError);
    });

    it('ttl(key) answers the absolute expiry time in ms since the epoch (undefined when absent)', async () => {
      const before = Date.now();
      await cm.set('t', 'v', 10_000);
      const expires = await cm.ttl('t');
      expect(typeof expires).toBe('number');
      expect(expires!).toBeGreaterThan(before + 8_000);
      expect(expires!).toBeLessThanOrEqual(Date.now() + 10_000);
      await cm.set('d', 'v'); // the module's defaultTtlMs (60 s)
      expect((await cm.ttl('d'))! - Date.now()).toBeGreaterThan(50_000);
      expect(await cm.ttl('missing')).toBeUndefined();
    });

    it('wrap() loads once, and refreshes in the background within refreshThreshold (it reads the expiry)', async () => {
      let loads = 0;
      const load = async () => ++loads;
      expect(await cm.wrap('w', load, 1_000, 900)).toBe(1);
      expect(await cm.wrap('w', load, 1_000, 900)).toBe(1); // fresh: served, nothing refreshed yet
      expect(loads).toBe(1);
      await sleep(200); // under 900 ms left: the next call serves the value and refreshes it
      expect(await cm.wrap('w', load, 1_000, 900)).toBe(1);
      await waitFor(async () => (await cm.get('w')) === 2);
    });

    it('clear() removes the cache entries only (namespaced Keyv stores keep theirs)', async () => {
      const other = new Keyv({ store: store.clone(), namespace: 'sessions' });
      await other.set('s', 'kept');
      await cm.set('x', 1);
      await ref.get(CacheService).set('y', 2);
      await cm.clear();
      expect(await cm.get('x')).toBeUndefined();
      expect(await ref.get(CacheService).get('y')).toBeUndefined();
      expect(await other.get('s')).toBe('kept');
      await other.clear();
    });
  });
});
