import { Logger } from '@nestjs/common';
import type { AnyMethod, DecoratedMethod } from '../core/method-decorators';
import { RedisConfigError } from '../redis/redis.errors';
import { CacheEvictHandler, type CacheEvictOptions } from './cache-evict.decorator';
import { CachePutHandler, type CachePutOptions } from './cache-put.decorator';
import { CacheKeyError, CacheSerializationError } from './cache.errors';
import type { CacheService, CacheSetOptions } from './cache.service';
import { CacheableHandler, type CacheableOptions } from './cacheable.decorator';

/** CacheService as the handlers use it, recording the calls (the e2e suite runs them on a real Redis). */
class RecordingCache {
  readonly calls: Array<[string, ...unknown[]]> = [];
  failSetWith: Error | undefined;
  async set(key: string, value: unknown, options: CacheSetOptions): Promise<boolean> {
    if (this.failSetWith) throw this.failSetWith;
    this.calls.push(['set', key, value, options]);
    return true;
  }
  async delete(...keys: string[]): Promise<number> {
    this.calls.push(['delete', ...keys]);
    return keys.length;
  }
  async invalidateTags(tags: readonly string[]): Promise<number> {
    this.calls.push(['invalidateTags', tags]);
    return tags.length;
  }
  async getOrSet<T>(key: string, loader: () => Promise<T>, options: unknown): Promise<T> {
    this.calls.push(['getOrSet', key, options]);
    return loader();
  }
}

const target = (methodName: string): DecoratedMethod => ({
  instance: {},
  methodName,
  label: `Users.${methodName}`,
  original: (() => undefined) as AnyMethod,
});

function setup() {
  const cache = new RecordingCache();
  const service = cache as unknown as CacheService;
  return {
    cache,
    put: new CachePutHandler(service),
    evict: new CacheEvictHandler(service),
    able: new CacheableHandler(service),
  };
}

describe('@CachePut handler', () => {
  const options: CachePutOptions = {
    key: (...args: unknown[]) => `user:${String(args[0])}`,
    ttlMs: 1_000,
    tags: (...args: unknown[]) => [`user-${String(args[0])}`],
  };

  it('stores the result after the method succeeded, with the key, TTL and tags of the call', async () => {
    const { cache, put } = setup();
    const method = put.wrap(async (id: unknown, name: unknown) => ({ id, name }), options, target('save'));
    expect(await method.call({}, 7, 'Ada')).toEqual({ id: 7, name: 'Ada' });
    expect(cache.calls).toEqual([['set', 'user:7', { id: 7, name: 'Ada' }, { ttlMs: 1_000, tags: ['user-7'] }]]);
  });

  it('calls the method with its instance as this, and stores nothing when it throws', async () => {
    const { cache, put } = setup();
    const instance = { fail: true };
    const method = put.wrap(
      async function (this: typeof instance) {
        if (this.fail) throw new Error('refused');
        return 1;
      } as AnyMethod,
      options,
      target('save'),
    );
    await expect(method.call(instance, 1)).rejects.toThrow('refused');
    expect(cache.calls).toEqual([]);
  });

  it('a result without a JSON form is logged and still returned; a bad key is thrown', async () => {
    const { cache, put } = setup();
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      cache.failSetWith = new CacheSerializationError('user:1', 'BigInt');
      const method = put.wrap(async () => 10n, options, target('save'));
      expect(await method.call({}, 1)).toBe(10n);
      expect(error).toHaveBeenCalledWith(expect.stringMatching(/^@CachePut on Users\.save: result not cached: Cannot/));
      cache.failSetWith = new CacheKeyError('', 'must not be empty');
      await expect(method.call({}, 1)).rejects.toThrow(CacheKeyError);
    } finally {
      error.mockRestore();
    }
  });

  it.each([
    [{ key: 'user:1' }, /"@CachePut\(Users\.save\)\.key": must be a function/],
    [{ key: (): string => 'k', ttlMs: 0 }, /"@CachePut\(Users\.save\)\.ttlMs"/],
    [
      { key: (): string => 'k', tags: 'users' },
      /"@CachePut\(Users\.save\)\.tags": must be an array of strings or a function/,
    ],
  ])('options %p: a RedisConfigError at startup naming the method', (bad, message) => {
    const { put } = setup();
    const validate = () => put.validate(bad as unknown as CachePutOptions, target('save'));
    expect(validate).toThrow(RedisConfigError);
    expect(validate).toThrow(message);
  });
});

describe('@CacheEvict handler', () => {
  it('evicts keys, then tags, after the method succeeded', async () => {
    const { cache, evict } = setup();
    const options: CacheEvictOptions = { keys: (...args) => [`user:${String(args[0])}`], tags: ['users'] };
    const method = evict.wrap(async () => 'done', options);
    expect(await method.call({}, 3)).toBe('done');
    expect(cache.calls).toEqual([
      ['delete', 'user:3'],
      ['invalidateTags', ['users']],
    ]);
  });

  it.each([
    [{}, /"@CacheEvict\(Users\.rename\)": needs keys, tags or both/],
    [{ keys: 'user:1' }, /"@CacheEvict\(Users\.rename\)\.keys": must be an array of strings/],
    [{ tags: [1] }, /"@CacheEvict\(Users\.rename\)\.tags"/],
  ])('options %p: a RedisConfigError at startup naming the method', (bad, message) => {
    const { evict } = setup();
    expect(() => evict.validate(bad as CacheEvictOptions, target('rename'))).toThrow(message);
  });
});

describe('@Cacheable handler', () => {
  it('answers through getOrSet with the key and tags of the call', async () => {
    const { cache, able } = setup();
    const options: CacheableOptions = { key: (...args) => `user:${String(args[0])}`, ttlMs: 500, tags: ['users'] };
    const method = able.wrap(async (id: unknown) => ({ id }), options);
    expect(await method.call({}, 2)).toEqual({ id: 2 });
    expect(cache.calls).toEqual([['getOrSet', 'user:2', { ttlMs: 500, tags: ['users'] }]]);
  });

  it.each([
    [{ key: undefined }, /"@Cacheable\(Users\.find\)\.key": must be a function/],
    [{ key: (): string => 'k', jitterMs: -1 }, /"@Cacheable\(Users\.find\)\.jitterMs"/],
    [{ key: (): string => 'k', tags: {} }, /"@Cacheable\(Users\.find\)\.tags"/],
  ])('options %p: a RedisConfigError at startup naming the method', (bad, message) => {
    const { able } = setup();
    expect(() => able.validate(bad as unknown as CacheableOptions, target('find'))).toThrow(message);
  });
});
