/**
 * The shared mechanisms against a real Redis, on both topologies: Lua scripts by EVALSHA with the EVAL fallback
 * (first call, after SCRIPT FLUSH, after a restart empty), multi-key scripts on one hash tag, and the shared
 * deadline sweeper bounding a script on a frozen server with a typed RedisTimeoutError.
 */
import { Cluster } from 'ioredis';
import { defineScript, deadlines } from '../src/core';
import { RedisTimeoutError, RedisUnavailableError, type RedisClient } from '../src';
import { startTestRedis, uniquePrefix, type TestRedis } from './support/redis-harness';

const incrBoth = defineScript({
  name: 'test.incrBoth',
  keys: 2,
  lua: `-- KEYS[1], KEYS[2]: two counters on one hash tag
-- ARGV[1]: the increment
-- Returns: { first counter, second counter }
return { redis.call('INCRBY', KEYS[1], ARGV[1]), redis.call('INCRBY', KEYS[2], ARGV[1]) }`,
});

const echo = defineScript({
  name: 'test.echo',
  keys: 'variadic',
  lua: `-- KEYS: any number, routed together
-- ARGV[1]: a text
-- Returns: the text and the number of keys
return { ARGV[1], #KEYS }`,
});

describe('shared mechanisms on Redis', () => {
  let redis: TestRedis;
  let client: RedisClient;
  beforeAll(async () => {
    redis = await startTestRedis();
    client = redis.client({ commandTimeout: 10_000 });
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });

  it('runs a script by EVALSHA, falling back to EVAL when the server does not know it', async () => {
    const tag = `{${uniquePrefix('lua')}}`;
    const keys = [`${tag}:a`, `${tag}:b`];
    expect(await incrBoth.run<number[]>(client, keys, [2])).toEqual([2, 2]);
    expect(await incrBoth.run<number[]>(client, keys, [3])).toEqual([5, 5]);
    await redis.eachNode((node) => node.script('FLUSH'));
    expect(await incrBoth.run<number[]>(client, keys, [1])).toEqual([6, 6]);
    expect(await echo.run<[string, number]>(client, [`${tag}:x`], ['hé "quoted"'])).toEqual(['hé "quoted"', 1]);
  });

  it('passes script errors through unchanged (not as an outage)', async () => {
    const tag = `{${uniquePrefix('lua')}}`;
    await client.set(`${tag}:a`, 'not a number');
    const err = await incrBoth.run(client, [`${tag}:a`, `${tag}:b`], [1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(RedisUnavailableError);
    expect(String((err as Error).message)).toMatch(/not an integer/);
  });

  it('works after Redis restarted empty (scripts cache gone)', async () => {
    const tag = `{${uniquePrefix('lua')}}`;
    expect(await incrBoth.run<number[]>(client, [`${tag}:a`, `${tag}:b`], [1])).toEqual([1, 1]);
    await redis.restart();
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        expect(await incrBoth.run<number[]>(client, [`${tag}:a`, `${tag}:b`], [1])).toEqual([1, 1]);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });

  it('on a cluster, routes each script call to the node of its keys', async () => {
    if (!(client instanceof Cluster)) return;
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        const tag = `{${uniquePrefix(`slot${i}`)}}`;
        return incrBoth.run<number[]>(client, [`${tag}:a`, `${tag}:b`], [i]);
      }),
    );
    expect(results.map((r) => r[0])).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('bounds a script with the shared sweeper: a frozen server gives RedisTimeoutError within the bound', async () => {
    const tag = `{${uniquePrefix('lua')}}`;
    await incrBoth.run(client, [`${tag}:a`, `${tag}:b`], [1]);
    redis.pause();
    try {
      const started = Date.now();
      const err = await incrBoth.run(client, [`${tag}:a`, `${tag}:b`], [1], 150).catch((e: unknown) => e);
      const tookMs = Date.now() - started;
      expect(err).toBeInstanceOf(RedisTimeoutError);
      expect(err).toBeInstanceOf(RedisUnavailableError);
      expect(tookMs).toBeGreaterThanOrEqual(145);
      expect(tookMs).toBeLessThan(150 + 2_000); // the script's bound, not commandTimeout (10 s); margin for a loaded machine
    } finally {
      redis.resume();
    }
    expect(deadlines.size).toBe(0);
  });
});
