import { RedisConfigError } from '../redis/redis.errors';
import { resolveRateLimitOptions, resolveRateLimitPolicy } from './ratelimit.options';

describe('rate-limit options', () => {
  it('defaults: client default, 250 ms, fail open, headers on, no policies', () => {
    const o = resolveRateLimitOptions();
    expect(o).toMatchObject({ clientName: 'default', timeoutMs: 250, failOpen: true, headers: true, guard: true });
    expect(o.policies.size).toBe(0);
  });

  it('window policies keep limit and window; sliding window by default', () => {
    expect(resolveRateLimitPolicy('p', { limit: 10, windowMs: 1_000 }, 'A.b')).toEqual({
      name: 'A.b',
      algorithm: 'sliding-window',
      limit: 10,
      windowMs: 1_000,
      ratePerSec: undefined,
      failOpen: undefined,
    });
  });

  it('bucket policies: ratePerSec + burst, or limit + windowMs (rate = limit / window, burst = limit)', () => {
    expect(resolveRateLimitPolicy('p', { name: 'x', algorithm: 'gcra', ratePerSec: 0.5, burst: 3 })).toMatchObject({
      limit: 3,
      ratePerSec: 0.5,
      windowMs: 6_000,
    });
    expect(resolveRateLimitPolicy('p', { name: 'x', algorithm: 'token-bucket', ratePerSec: 2.5 })).toMatchObject({
      limit: 3,
      ratePerSec: 2.5,
    });
    expect(
      resolveRateLimitPolicy('p', { name: 'x', algorithm: 'token-bucket', limit: 100, windowMs: 60_000 }),
    ).toMatchObject({ limit: 100, windowMs: 60_000, ratePerSec: 100 / 60 });
  });

  it.each([
    [{ limit: 10 }, /"p\.windowMs": is required for sliding-window/],
    [{ windowMs: 10 }, /"p\.limit": is required/],
    [{ limit: 1.5, windowMs: 10 }, /"p\.limit": must be a positive integer/],
    [{ limit: 2e9, windowMs: 10 }, /"p\.limit": must be at most 1000000000/],
    [{ algorithm: 'gcra', ratePerSec: 0 }, /"p\.ratePerSec": must be above 0/],
    [{ algorithm: 'gcra', ratePerSec: -1 }, /"p\.ratePerSec": must be at least 0/],
    [{ algorithm: 'gcra' }, /"p\.ratePerSec": is required for gcra/],
    [{ algorithm: 'gcra', ratePerSec: 1, windowMs: 5 }, /"p\.ratePerSec": give either/],
    [{ algorithm: 'sliding-window', limit: 1, windowMs: 5, ratePerSec: 1 }, /"p\.ratePerSec": applies to token-bucket/],
    [{ name: 'has space', limit: 1, windowMs: 5 }, /"p\.name"/],
    [{ name: 'quote"d', limit: 1, windowMs: 5 }, /"p\.name": must hold only letters/],
    [{ limit: 1, windowMs: 5, failOpen: 1 }, /"p\.failOpen": must be true or false/],
  ])('policy %p: a RedisConfigError naming the option', (policy, message) => {
    const resolve = () => resolveRateLimitPolicy('p', policy as never, 'A.b');
    expect(resolve).toThrow(RedisConfigError);
    expect(resolve).toThrow(message);
  });

  it('module policies are named by their entry', () => {
    const o = resolveRateLimitOptions({
      policies: { login: { algorithm: 'fixed-window', limit: 5, windowMs: 60_000 } },
    });
    expect(o.policies.get('login')).toMatchObject({ name: 'login', algorithm: 'fixed-window', limit: 5 });
    expect(() => resolveRateLimitOptions({ policies: { login: { name: 'x' } as never } })).toThrow(
      /"ratelimit\.policies\.login\.name": is the key of the entry/,
    );
  });
});
