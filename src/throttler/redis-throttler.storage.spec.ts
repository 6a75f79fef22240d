import { RedisConfigError } from '../redis/redis.errors';
import type { RedisService } from '../redis/redis.service';
import { RedisThrottlerStorage, type RedisThrottlerStorageOptions } from './redis-throttler.storage';
import { ThrottlerKeys } from './throttler.keys';
import { FIXED_WINDOW_BLOCKING } from '../core/rate-decision.scripts';

/** The part of RedisService the constructor reads (no connection is made until the first hit). */
const redis = { prefixFor: (feature: string) => `app:${feature}:` } as unknown as RedisService;

describe('RedisThrottlerStorage', () => {
  it('keys: one hash tag per throttler and tracker, the block marker next to its counter', () => {
    const keys = new ThrottlerKeys('app:throttle:');
    const hits = keys.hits('1.2.3.4', 'login');
    expect(hits).toBe('app:throttle:{login:1.2.3.4}');
    expect(keys.block(hits)).toBe('app:throttle:{login:1.2.3.4}:block');
    expect(new RedisThrottlerStorage(redis).keyFor('1.2.3.4', 'login')).toBe(hits);
  });

  it('runs the shared fixed-window rate decision in throttler mode, which takes both keys', () => {
    expect(FIXED_WINDOW_BLOCKING.definition.keys).toBe(2);
  });

  it('starts with empty counters', () => {
    const storage = new RedisThrottlerStorage(redis, { timeoutMs: 100, failOpen: false, clientName: 'limits' });
    expect(storage.failedOpen).toBe(0);
    expect(storage.stats).toEqual({ failedOpen: 0, errors: 0, outages: 0 });
  });

  it.each([
    [{ timeoutMs: 0 }, /"throttler\.timeoutMs": must be a positive integer number of milliseconds, got 0/],
    [{ timeoutMs: 2.5 }, /"throttler\.timeoutMs"/],
    [{ failOpen: 'yes' }, /"throttler\.failOpen": must be true or false/],
    [{ clientName: '' }, /"throttler\.clientName": must be a non-empty string/],
  ])('options %p: a RedisConfigError naming the option', (options, message) => {
    const make = () => new RedisThrottlerStorage(redis, options as unknown as RedisThrottlerStorageOptions);
    expect(make).toThrow(RedisConfigError);
    expect(make).toThrow(message);
  });
});
