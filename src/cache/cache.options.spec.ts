import { RedisConfigError } from '../redis/redis.errors';
import { resolveCacheOptions, type RedisCacheModuleOptions } from './cache.options';

describe('resolveCacheOptions', () => {
  it('fills in the defaults', () => {
    expect(resolveCacheOptions()).toEqual({
      clientName: 'default',
      defaultTtlMs: 60_000,
      negativeTtlMs: 5_000,
      readTimeoutMs: 100,
      writeTimeoutMs: 500,
      lockTtlMs: 5_000,
      lockWaitMs: 1_000,
      lockPollMs: 20,
      probeIntervalMs: 500,
      nearCache: false,
      privateCookieNames: undefined,
    });
  });

  it('keeps given values; lockWaitMs 0 turns the cross-process wait off; near cache ttlMs defaults to 30 s', () => {
    const o = resolveCacheOptions({
      clientName: 'cache',
      readTimeoutMs: 20,
      lockWaitMs: 0,
      nearCache: { maxEntries: 10 },
      privateCookieNames: ['sid'],
    });
    expect(o).toMatchObject({ clientName: 'cache', readTimeoutMs: 20, lockWaitMs: 0, privateCookieNames: ['sid'] });
    expect(o.nearCache).toEqual({ maxEntries: 10, ttlMs: 30_000 });
  });

  it.each([
    [{ readTimeoutMs: -1 }, /"cache\.readTimeoutMs": must be a positive integer number of milliseconds, got -1/],
    [{ defaultTtlMs: 0 }, /"cache\.defaultTtlMs"/],
    [{ writeTimeoutMs: 1.5 }, /"cache\.writeTimeoutMs".*got 1\.5/],
    [{ lockWaitMs: -5 }, /"cache\.lockWaitMs": must be a non-negative integer/],
    [{ probeIntervalMs: '500' }, /"cache\.probeIntervalMs".*got "500"/],
    [{ nearCache: { maxEntries: 0 } }, /"cache\.nearCache\.maxEntries": must be a positive integer, got 0/],
    [{ nearCache: {} }, /"cache\.nearCache\.maxEntries": must be a positive integer, got undefined/],
    [{ nearCache: { maxEntries: 5, ttlMs: 0 } }, /"cache\.nearCache\.ttlMs"/],
    [{ privateCookieNames: 'sid' }, /"cache\.privateCookieNames": must be an array of cookie names/],
    [{ clientName: '' }, /"cache\.clientName": must be a non-empty string/],
  ])('%p: a RedisConfigError naming the option', (options, message) => {
    const resolve = () => resolveCacheOptions(options as RedisCacheModuleOptions);
    expect(resolve).toThrow(RedisConfigError);
    expect(resolve).toThrow(message);
  });
});
