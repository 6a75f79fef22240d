/**
 * RateLimitModule against real Redis, topology-aware (one server, or a 3-master cluster with REDIS_TOPOLOGY=cluster):
 * each algorithm from two app instances at twice its allowed rate stays within its documented bound
 * (docs/ratelimit.md), the fixed window's edge burst next to the sliding window's refusal of it, the IETF headers on
 * 200 and 429, costs above 1, reset, the fail modes when Redis is frozen or killed, and option validation.
 */
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  RateLimit,
  RateLimitArgumentError,
  RateLimitExceededError,
  RateLimitModule,
  RateLimitService,
  RedisConfigError,
  RedisModule,
  RedisTimeoutError,
  RedisUnavailableError,
  type RateLimitModuleOptions,
  type RateLimitPolicy,
} from '../src';
import { startTestRedis, uniquePrefix, type TestRedis } from './support/redis-harness';
import { sleep } from '../src/core/deadline';

/** Window algorithms of the rate test: 10 per 500 ms (20/s). Bucket algorithms: 20/s, burst 5. */
const LIMIT = 10;
const WINDOW_MS = 500;
const RATE_PER_SEC = 20;
const BURST = 5;

@Controller('limited')
class LimitedController {
  @Get('headers')
  @RateLimit({ name: 'search', algorithm: 'fixed-window', limit: 3, windowMs: 60_000 })
  headers(): { ok: true } {
    return { ok: true };
  }

  @Get('closed')
  @RateLimit({ algorithm: 'gcra', ratePerSec: 100, failOpen: false, key: 'route' })
  closed(): { ok: true } {
    return { ok: true };
  }

  @Get('open')
  @RateLimit({ algorithm: 'sliding-window', limit: 100, windowMs: 1_000, key: 'route' })
  open(): { ok: true } {
    return { ok: true };
  }
}

/** Class-level limit, a method with two limits of its own, and the `user` and function keys. */
@Controller('scoped')
@RateLimit({ name: 'scoped', algorithm: 'fixed-window', limit: 2, windowMs: 60_000 })
class ScopedController {
  @Get('a')
  a(): { ok: true } {
    return { ok: true };
  }

  @Get('two')
  @RateLimit(
    { name: 'burst', algorithm: 'gcra', ratePerSec: 1, burst: 3, key: 'route' },
    { name: 'daily', algorithm: 'fixed-window', limit: 2, windowMs: 86_400_000, key: 'route' },
  )
  two(): { ok: true } {
    return { ok: true };
  }

  @Get('user')
  @RateLimit({ name: 'per-user', algorithm: 'fixed-window', limit: 1, windowMs: 60_000, key: 'user' })
  user(): { ok: true } {
    return { ok: true };
  }

  @Get('tenant')
  @RateLimit({
    name: 'per-tenant',
    algorithm: 'fixed-window',
    limit: 1,
    windowMs: 60_000,
    key: (ctx) => ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-tenant'],
  })
  tenant(): { ok: true } {
    return { ok: true };
  }
}

/** One instance of a service: RedisModule + RateLimitModule + the controller, listening on a free port. */
async function startApp(
  redis: TestRedis,
  keyPrefix: string,
  options: RateLimitModuleOptions = {},
): Promise<{ app: INestApplication; url: string; limits: RateLimitService }> {
  const ref = await Test.createTestingModule({
    imports: [
      RedisModule.forRoot({ ...redis.connection, keyPrefix, commandTimeoutMs: 10_000 }),
      RateLimitModule.forRoot(options),
    ],
    controllers: [LimitedController, ScopedController],
  }).compile();
  const app = ref.createNestApplication({ logger: false });
  // A signed-in user, as Passport would set it: `x-user` names them.
  app.use(
    (req: { headers: Record<string, string | undefined>; user?: { id: string } }, _res: unknown, next: () => void) => {
      if (req.headers['x-user']) req.user = { id: req.headers['x-user'] };
      next();
    },
  );
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl(), limits: app.get(RateLimitService) };
}

/**
 * Calls `consume(policy, 'client')` on a fixed schedule (open loop), alternating between the instances, for
 * `durationMs` at `perSec` calls per second. Returns the outcomes and the span from the first to the last call, in
 * ms: on a busy machine the calls leave later than scheduled, over a longer span, and the theory follows that span.
 * The decision the `@RateLimit` guard takes, without HTTP: four of these at once over HTTP in one test process could
 * not keep 40 requests per second each on a loaded 2-core machine (requests arrived over 9.5 s instead of 5 s, at
 * about the allowed rate instead of twice it).
 */
async function drive(
  instances: RateLimitService[],
  policy: RateLimitPolicy,
  perSec: number,
  durationMs: number,
): Promise<{ allowed: number; refused: number; other: number; spanMs: number }> {
  const intervalMs = 1000 / perSec;
  const count = Math.round((durationMs * perSec) / 1000);
  const calledAt: number[] = [];
  const started = Date.now();
  const outcomes: Array<Promise<'allowed' | 'refused' | 'other'>> = [];
  for (let i = 0; i < count; i++) {
    const wait = started + i * intervalMs - Date.now();
    if (wait > 0) await sleep(wait);
    calledAt.push(Date.now());
    outcomes.push(
      instances[i % instances.length].consume(policy, 'client').then(
        (d) => (d.failedOpen ? 'other' : d.allowed ? 'allowed' : 'refused'),
        () => 'other',
      ),
    );
  }
  const settled = await Promise.all(outcomes);
  return {
    allowed: settled.filter((o) => o === 'allowed').length,
    refused: settled.filter((o) => o === 'refused').length,
    other: settled.filter((o) => o === 'other').length,
    spanMs: calledAt[calledAt.length - 1] - calledAt[0],
  };
}

describe('RateLimitModule (real Redis)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  describe('two instances at twice the allowed rate for 5 s, the four algorithms at once', () => {
    const DURATION_MS = 5_000;
    const PER_SEC = 2 * RATE_PER_SEC; // twice the allowed rate: LIMIT / WINDOW_MS = RATE_PER_SEC = 20/s
    const POLICIES: Record<string, RateLimitPolicy> = {
      fixed: { name: 'rate-fixed', algorithm: 'fixed-window', limit: LIMIT, windowMs: WINDOW_MS },
      sliding: { name: 'rate-sliding', algorithm: 'sliding-window', limit: LIMIT, windowMs: WINDOW_MS },
      bucket: { name: 'rate-bucket', algorithm: 'token-bucket', ratePerSec: RATE_PER_SEC, burst: BURST },
      gcra: { name: 'rate-gcra', algorithm: 'gcra', ratePerSec: RATE_PER_SEC, burst: BURST },
    };
    const prefix = uniquePrefix('rl');
    let a: Awaited<ReturnType<typeof startApp>>;
    let b: Awaited<ReturnType<typeof startApp>>;
    const results = new Map<string, Awaited<ReturnType<typeof drive>>>();
    // One drive per algorithm, all at once (each on its own limit and key): the suite takes 5 s, not 4 × 5 s.
    beforeAll(async () => {
      a = await startApp(redis, prefix);
      b = await startApp(redis, prefix);
      const routes = Object.keys(POLICIES);
      const driven = await Promise.all(
        routes.map((route) => drive([a.limits, b.limits], POLICIES[route], PER_SEC, DURATION_MS)),
      );
      routes.forEach((route, i) => results.set(route, driven[i]));
    }, 30_000);
    afterAll(async () => {
      await a?.app.close();
      await b?.app.close();
    });

    // Window algorithms: L·T/W within one window's limit (L); the fixed window's anchored windows can add one more.
    it.each([
      ['fixed', LIMIT],
      ['sliding', LIMIT],
    ])('%s window: allowed = limit × spans of the window, within the documented bound', (route, bound) => {
      const r = results.get(route) as Awaited<ReturnType<typeof drive>>;
      const theory = (LIMIT * r.spanMs) / WINDOW_MS;
      expect(r.other).toBe(0);
      expect(r.refused).toBeGreaterThan(0);
      expect(Math.abs(r.allowed - theory)).toBeLessThanOrEqual(bound + 1);
    });

    // Bucket algorithms: burst + rate·T exactly, up to rounding; the tolerance is the test's own clock (the span is
    // measured on this process, the decisions are taken on Redis's clock): 10 % of the rate part.
    it.each(['bucket', 'gcra'])('%s: allowed = burst + rate × time, within the documented bound', (route) => {
      const r = results.get(route) as Awaited<ReturnType<typeof drive>>;
      const theory = BURST + (RATE_PER_SEC * r.spanMs) / 1000;
      expect(r.other).toBe(0);
      expect(r.refused).toBeGreaterThan(0);
      expect(Math.abs(r.allowed - theory)).toBeLessThanOrEqual(1 + 0.1 * ((RATE_PER_SEC * r.spanMs) / 1000));
    });
  });

  it("a fixed window lets twice its limit through around a window's end; the sliding window refuses that burst", async () => {
    const ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ ...redis.connection, keyPrefix: uniquePrefix('rl-edge') }),
        RateLimitModule.forRoot(),
      ],
    }).compile();
    await ref.init();
    const limits = ref.get(RateLimitService);
    const windowMs = 1_000;
    const burst = async (policy: RateLimitPolicy, n: number) => {
      let allowed = 0;
      for (const d of await Promise.all(Array.from({ length: n }, () => limits.consume(policy, 'edge'))))
        if (d.allowed) allowed++;
      return allowed;
    };
    try {
      // Fixed window (anchored at the first hit): 1 hit opens it, 4 just before its end, 5 just after.
      const fixed: RateLimitPolicy = { name: 'edge-fixed', algorithm: 'fixed-window', limit: 5, windowMs };
      const first = await limits.consume(fixed, 'edge');
      await sleep(first.resetMs - 200);
      const t0 = Date.now();
      const beforeEdge = await burst(fixed, 4);
      await sleep(Math.max(0, t0 + 400 - Date.now()));
      const afterEdge = await burst(fixed, 5);
      expect(beforeEdge + afterEdge).toBe(9); // 9 within ~400 ms, for a limit of 5 per second

      // Sliding window (weighted counter): 5 just before a window boundary, 5 just after: the second burst is refused.
      const sliding: RateLimitPolicy = { name: 'edge-sliding', algorithm: 'sliding-window', limit: 5, windowMs };
      const probe = await limits.consume(sliding, 'probe'); // another key: only to learn where the boundary is
      const toBoundaryMs = probe.resetMs - windowMs; // resetMs = the end of the next window
      await sleep(Math.max(0, toBoundaryMs - 200));
      const t1 = Date.now();
      const slidingBefore = await burst(sliding, 5);
      await sleep(Math.max(0, t1 + 400 - Date.now()));
      const slidingAfter = await burst(sliding, 5);
      expect(slidingBefore).toBe(5);
      expect(slidingAfter).toBeLessThanOrEqual(1);
    } finally {
      await ref.close();
    }
  });

  it('answers the IETF headers on 200 and 429, and 429 with Retry-After and a clear JSON message', async () => {
    const { app, url } = await startApp(redis, uniquePrefix('rl-h'));
    try {
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await fetch(`${url}/limited/headers`));
      expect(answers.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
      expect(answers[0].headers.get('ratelimit-policy')).toBe('"search";q=3;w=60');
      expect(answers[0].headers.get('ratelimit')).toMatch(/^"search";r=2;t=(59|60)$/);
      expect(answers[2].headers.get('ratelimit')).toMatch(/^"search";r=0;t=(59|60)$/);
      expect(answers[0].headers.get('retry-after')).toBeNull();
      const refused = answers[3];
      expect(refused.status).toBe(429);
      expect(refused.headers.get('ratelimit-policy')).toBe('"search";q=3;w=60');
      expect(refused.headers.get('ratelimit')).toMatch(/^"search";r=0;t=(59|60)$/);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
      expect(await refused.json()).toEqual({
        statusCode: 429,
        error: 'Too Many Requests',
        message: expect.stringMatching(/^Too many requests: the limit "search" allows 3 per 60 s; retry in (59|60) s$/),
        policy: 'search',
        retryAfterSeconds: expect.any(Number),
      });
      // One key per limit and client, hash-tagged, under <prefix>ratelimit:
      const keys = await redis.keys('*ratelimit:{search:ip:*');
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });

  it('a class-level limit, two limits on one route, and the user and function keys', async () => {
    const { app, url } = await startApp(redis, uniquePrefix('rl-scope'));
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${url}/scoped/${path}`, { headers });
    try {
      // The class's limit applies to a route without its own, counted once per request.
      expect((await get('a')).headers.get('ratelimit')).toMatch(/^"scoped";r=1;t=\d+$/);
      expect((await get('a')).status).toBe(200);
      expect((await get('a')).status).toBe(429);

      // A route's own limits replace the class's; both are counted and listed; the tighter one refuses.
      const first = await get('two');
      expect(first.headers.get('ratelimit-policy')).toBe('"burst";q=3;w=3, "daily";q=2;w=86400');
      expect(first.headers.get('ratelimit')).toMatch(/^"burst";r=2;t=\d+, "daily";r=1;t=\d+$/);
      expect((await get('two')).status).toBe(200);
      const third = await get('two');
      expect(third.status).toBe(429);
      expect(((await third.json()) as { policy: string }).policy).toBe('daily');
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(80_000);

      // `user`: one limit per signed-in user, the IP for anonymous requests.
      expect((await get('user', { 'x-user': 'ann' })).status).toBe(200);
      expect((await get('user', { 'x-user': 'ann' })).status).toBe(429);
      expect((await get('user', { 'x-user': 'bob' })).status).toBe(200);
      expect((await get('user')).status).toBe(200);
      expect((await get('user')).status).toBe(429);
      const keys = await redis.keys('*ratelimit:{per-user:*');
      expect(keys.map((k) => k.replace(/^.*\{per-user:/, '{')).sort()).toEqual(
        expect.arrayContaining(['{user:ann}', '{user:bob}']),
      );

      // A function: its key; `undefined` leaves the request unlimited (and without headers).
      expect((await get('tenant', { 'x-tenant': 't1' })).status).toBe(200);
      expect((await get('tenant', { 'x-tenant': 't1' })).status).toBe(429);
      const unlimited = await get('tenant');
      expect(unlimited.status).toBe(200);
      expect(unlimited.headers.get('ratelimit')).toBeNull();
      expect((await get('tenant')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('consume(policy, key, cost): costs above 1, enforce, reset, named policies; keys hash-tagged per client', async () => {
    const prefix = uniquePrefix('rl-api');
    const ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ ...redis.connection, keyPrefix: prefix }),
        RateLimitModule.forRoot({
          policies: { login: { algorithm: 'fixed-window', limit: 5, windowMs: 60_000, failOpen: false } },
        }),
      ],
    }).compile();
    await ref.init();
    const limits = ref.get(RateLimitService);
    try {
      for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket', 'gcra'] as const) {
        const policy: RateLimitPolicy = { name: `cost-${algorithm}`, algorithm, limit: 10, windowMs: 60_000 };
        const first = await limits.consume(policy, 'u1', 4);
        expect(first).toMatchObject({ allowed: true, remaining: 6, limit: 10, retryAfterMs: 0, failedOpen: false });
        expect(await limits.consume(policy, 'u1', 6)).toMatchObject({ allowed: true, remaining: 0 });
        const refused = await limits.consume(policy, 'u1', 2);
        expect(refused).toMatchObject({ allowed: false, remaining: 0 });
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        // At most one window; the sliding window's can reach into the next one (the previous count still weighs).
        expect(refused.retryAfterMs).toBeLessThanOrEqual(algorithm === 'sliding-window' ? 120_000 : 60_000);
        // Another client has its own limit; a refused call cost nothing.
        expect(await limits.consume(policy, 'u2', 10)).toMatchObject({ allowed: true, remaining: 0 });
        await limits.reset(policy, 'u1');
        expect(await limits.consume(policy, 'u1', 10)).toMatchObject({ allowed: true });
      }
      for (let i = 0; i < 5; i++) await limits.enforce('login', 'alice:1.2.3.4');
      const err = await limits.enforce('login', 'alice:1.2.3.4').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RateLimitExceededError);
      expect((err as RateLimitExceededError).retryAfterSeconds).toBeGreaterThanOrEqual(59);
      expect((err as Error).message).toMatch(/^Rate limit "login" exceeded \(5 per 60 s\); retry in \d+ s$/);
      await limits.limiter('login').reset('alice:1.2.3.4');
      expect((await limits.consume('login', 'alice:1.2.3.4')).allowed).toBe(true);

      const keys = await redis.keys(`${prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) expect(k).toMatch(new RegExp(`^${prefix}ratelimit:\\{[^{}]+\\}$`));

      expect(() => limits.limiter('nope')).toThrow(/no policy "nope" in RateLimitModule options \(known: "login"\)/);
      await expect(limits.consume('login', 'k', 6)).rejects.toThrow(RateLimitArgumentError);
      await expect(limits.consume('login', 'k', 6)).rejects.toThrow(/"cost": must be at most 5/);
      await expect(limits.consume('login', '')).rejects.toThrow(/"key"/);
      expect(limits.stats).toMatchObject({ failedOpen: 0, failedClosed: 0, errors: 0 });
      expect(limits.stats.allowed).toBeGreaterThan(0);
      expect(limits.stats.refused).toBeGreaterThan(0);
    } finally {
      await ref.close();
    }
  });

  it('a token bucket kept as a hash {t, at} (the earlier layout) is read, then rewritten as its string', async () => {
    const prefix = uniquePrefix('rl-tb');
    const ref = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ ...redis.connection, keyPrefix: prefix }), RateLimitModule.forRoot()],
    }).compile();
    await ref.init();
    const limits = ref.get(RateLimitService);
    const client = redis.client();
    try {
      // 10 per minute: a token takes 6 s to come back, so the 3 tokens of the hash are what the bucket holds.
      const policy: RateLimitPolicy = { name: 'legacy', algorithm: 'token-bucket', limit: 10, windowMs: 60_000 };
      const key = `${prefix}ratelimit:{legacy:u1}`;
      const [seconds, micros] = (await client.time()) as [number | string, number | string];
      await client.hset(key, 't', 3, 'at', Number(seconds) * 1000 + Number(micros) / 1000);
      await client.pexpire(key, 60_000);
      expect(await limits.consume(policy, 'u1')).toMatchObject({ allowed: true, remaining: 2 });
      expect(await client.type(key)).toBe('string');
      expect(await limits.consume(policy, 'u1', 3)).toMatchObject({ allowed: false, remaining: 2 });
      expect(await limits.consume(policy, 'u1', 2)).toMatchObject({ allowed: true, remaining: 0 });
    } finally {
      client.disconnect();
      await ref.close();
    }
  });

  describe('Redis frozen, then killed', () => {
    let own: TestRedis;
    let app: Awaited<ReturnType<typeof startApp>>;
    const timeoutMs = 150;
    beforeAll(async () => {
      own = await startTestRedis();
      app = await startApp(own, uniquePrefix('rl-down'), { timeoutMs });
    });
    afterAll(async () => {
      own?.resume();
      await app?.app.close();
      await own?.stop();
    });

    /** One decision, timed in this process. */
    const timed = async (policy: RateLimitPolicy) => {
      const t0 = Date.now();
      const outcome = await app.limits.consume(policy, 'k').catch((e: unknown) => e);
      return { outcome, ms: Date.now() - t0 };
    };
    const openPolicy: RateLimitPolicy = { name: 'down-open', algorithm: 'sliding-window', limit: 5, windowMs: 1_000 };
    const closedPolicy: RateLimitPolicy = { ...openPolicy, name: 'down-closed', failOpen: false };

    it('frozen: fail open lets the call through, fail closed refuses it (RedisTimeoutError; HTTP 503), well before commandTimeout', async () => {
      expect((await fetch(`${app.url}/limited/open`)).status).toBe(200);
      expect((await fetch(`${app.url}/limited/closed`)).status).toBe(200);
      own.pause();
      try {
        const open = await timed(openPolicy);
        const closed = await timed(closedPolicy);
        expect(open.outcome).toMatchObject({ allowed: true, failedOpen: true });
        expect(closed.outcome).toBeInstanceOf(RedisTimeoutError);
        expect((closed.outcome as RedisTimeoutError).timeoutMs).toBe(timeoutMs);
        // decided by timeoutMs, not by commandTimeout (10 s); 2 s of margin for a loaded machine
        expect(open.ms).toBeLessThan(timeoutMs + 2_000);
        expect(closed.ms).toBeLessThan(timeoutMs + 2_000);

        const openHttp = await fetch(`${app.url}/limited/open`);
        expect(openHttp.status).toBe(200);
        expect(openHttp.headers.get('ratelimit')).toBeNull(); // nothing known: no headers
        const closedHttp = await fetch(`${app.url}/limited/closed`);
        expect(closedHttp.status).toBe(503);
        expect(closedHttp.headers.get('retry-after')).toBeNull();
        expect(await closedHttp.json()).toMatchObject({
          statusCode: 503,
          message: expect.stringMatching(/^The rate limit "LimitedController.closed" cannot be checked right now/),
        });
      } finally {
        own.resume();
      }
      // Back: limits apply again at once.
      const deadline = Date.now() + 5_000;
      let back = await timed(closedPolicy);
      while (!(back.outcome as { allowed?: boolean }).allowed && Date.now() < deadline) {
        await sleep(50);
        back = await timed(closedPolicy);
      }
      expect(back.outcome).toMatchObject({ allowed: true, failedOpen: false });
    });

    it('killed: each limit applies its fail mode at once', async () => {
      await own.kill();
      const open = await timed(openPolicy);
      const closed = await timed(closedPolicy);
      expect(open.outcome).toMatchObject({ allowed: true, failedOpen: true });
      expect(closed.outcome).toBeInstanceOf(RedisUnavailableError);
      expect(open.ms).toBeLessThan(timeoutMs + 2_000);
      expect(closed.ms).toBeLessThan(timeoutMs + 2_000);
      expect((await fetch(`${app.url}/limited/open`)).status).toBe(200);
      expect((await fetch(`${app.url}/limited/closed`)).status).toBe(503);
      expect(app.limits.stats).toMatchObject({ outages: expect.any(Number) });
      expect(app.limits.stats.failedOpen).toBeGreaterThanOrEqual(2);
      expect(app.limits.stats.failedClosed).toBeGreaterThanOrEqual(2);
    });
  });

  describe('option validation: RedisConfigError naming the option', () => {
    it.each([
      [{ timeoutMs: 0 }, /"ratelimit\.timeoutMs": must be a positive integer number of milliseconds, got 0/],
      [{ failOpen: 'no' }, /"ratelimit\.failOpen": must be true or false/],
      [{ policies: { login: { limit: 5 } } }, /"ratelimit\.policies\.login\.windowMs": is required for sliding-window/],
      [
        { policies: { login: { algorithm: 'leaky', limit: 5 } } },
        /"ratelimit\.policies\.login\.algorithm": must be one of/,
      ],
      [{ policies: { 'a b': { limit: 5, windowMs: 1 } } }, /"ratelimit\.policies\.a b"/],
      [
        { policies: { x: { algorithm: 'fixed-window', limit: 5, windowMs: 1000, burst: 2 } } },
        /"ratelimit\.policies\.x\.burst": applies to token-bucket and gcra only/,
      ],
      [
        { policies: { x: { algorithm: 'gcra', burst: 2 } } },
        /"ratelimit\.policies\.x\.ratePerSec": is required for gcra/,
      ],
      [
        { policies: { x: { algorithm: 'token-bucket', ratePerSec: 5, limit: 5, windowMs: 1000 } } },
        /"ratelimit\.policies\.x\.ratePerSec": give either ratePerSec/,
      ],
    ])('module options %p', async (options, message) => {
      const err = await Test.createTestingModule({
        imports: [
          RedisModule.forRoot({ ...redis.connection, keyPrefix: uniquePrefix('rl-opt') }),
          RateLimitModule.forRoot(options as unknown as RateLimitModuleOptions),
        ],
      })
        .compile()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedisConfigError);
      expect((err as Error).message).toMatch(message);
    });

    it('a bad @RateLimit fails when the class is loaded, naming Controller.method and the option', () => {
      const decorate = (options: unknown) => () => {
        class Search {
          find(): void {}
        }
        const descriptor = Object.getOwnPropertyDescriptor(Search.prototype, 'find') as PropertyDescriptor;
        RateLimit(options as RateLimitPolicy)(Search.prototype, 'find', descriptor);
      };
      expect(decorate({ algorithm: 'fixed-window', limit: 0, windowMs: 1000 })).toThrow(
        /"@RateLimit\(Search\.find\)\.limit": must be a positive integer, got 0/,
      );
      expect(decorate({ limit: 5, windowMs: 1000, key: 'session' })).toThrow(/"@RateLimit\(Search\.find\)\.key"/);
      expect(decorate({ limit: 5, windowMs: 1000, cost: 6 })).toThrow(
        /"@RateLimit\(Search\.find\)\.cost": must be at most/,
      );
      expect(decorate({ policy: 'search', limit: 5 })).toThrow(
        /"@RateLimit\(Search\.find\)\.limit": comes from the module/,
      );
      expect(decorate({ limit: 5, windowMs: 1000 })).not.toThrow();
    });
  });
});
