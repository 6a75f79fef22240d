/**
 * The failed-login throttle on the shared rate decisions (a fixed window per username + IP), topology-aware (one
 * server, or a 3-master cluster with REDIS_TOPOLOGY=cluster): two instances share the count, the limit answers 429 +
 * Retry-After even to the right password, a success resets the count, the keys are the rate-decision layout, and
 * while Redis is frozen or killed the throttle fails closed (503) by default or open with `loginFailOpen`.
 */
import { Controller, HttpCode, Injectable, Post, UseGuards, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  CurrentUser,
  LocalLoginGuard,
  RedisModule,
  RedisTimeoutError,
  RedisUnavailableError,
  SessionAuthService,
  SessionModule,
  SessionUserLookup,
  type SessionModuleOptions,
} from '../src';
import { startTestRedis, uniquePrefix, type TestRedis } from './support/redis-harness';

interface Member {
  id: string;
}

/** Two members whose password is their name reversed. */
@Injectable()
class Members extends SessionUserLookup<Member> {
  async validateCredentials(username: string, password: string): Promise<Member | null> {
    const known = ['carol', 'dave'].includes(username) && password === [...username].reverse().join('');
    return known ? { id: username } : null;
  }
  async findById(id: string): Promise<Member | null> {
    return { id };
  }
  getId(member: Member): string {
    return member.id;
  }
}

@Controller()
class LoginController {
  @Post('login')
  @HttpCode(200)
  @UseGuards(LocalLoginGuard)
  login(@CurrentUser() member: Member): Member {
    return member;
  }
}

const WINDOW_MS = 60_000;

async function startApp(
  redis: TestRedis,
  keyPrefix: string,
  options: Partial<SessionModuleOptions> = {},
): Promise<INestApplication> {
  const ref = await Test.createTestingModule({
    imports: [
      RedisModule.forRoot({ ...redis.connection, keyPrefix, commandTimeoutMs: 10_000 }),
      SessionModule.forRoot({
        secrets: ['login-limit-secret-0123'],
        secure: false,
        loginMaxAttempts: 3,
        loginWindowMs: WINDOW_MS,
        ...options,
        userLookup: Members,
      }),
    ],
    controllers: [LoginController],
  }).compile();
  const app = ref.createNestApplication({ logger: false });
  await app.init();
  return app;
}

const attempt = (app: INestApplication, username: string, password: string) =>
  request(app.getHttpServer()).post('/login').send({ username, password });

describe('failed-login throttle on the shared rate decisions', () => {
  let redis: TestRedis;
  let prefix: string;
  let a: INestApplication;
  let b: INestApplication;

  beforeAll(async () => {
    redis = await startTestRedis();
    prefix = uniquePrefix('login');
    a = await startApp(redis, prefix);
    b = await startApp(redis, prefix);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it('two instances share the count: the 4th attempt is 429 + Retry-After, even with the right password', async () => {
    await attempt(a, 'carol', 'nope').expect(401);
    await attempt(b, 'carol', 'nope').expect(401);
    await attempt(a, 'carol', 'nope').expect(401);
    const limited = await attempt(b, 'carol', 'lorac').expect(429);
    const retry = Number(limited.headers['retry-after']);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect(limited.body).toMatchObject({
      statusCode: 429,
      message: `Too many failed login attempts; retry in ${retry} s`,
    });
    expect(b.get(SessionAuthService).stats.throttled).toBe(1);
    // one key per username + IP, in the rate-decision layout; the old counters are gone
    const keys = await redis.keys(`${prefix}sess:{login:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^.*sess:\{login:[0-9a-f]{32}\}$/);
    expect(await redis.keys(`${prefix}sess:login:*`)).toEqual([]);
    await Promise.all(keys.map((k) => redis.eachNode((node) => node.del(k).catch(() => 0))));
  });

  it('a success resets the count; refused attempts cost nothing', async () => {
    await attempt(a, 'dave', 'nope').expect(401);
    await attempt(b, 'dave', 'nope').expect(401);
    await attempt(a, 'dave', 'evad').expect(200);
    expect(await redis.keys(`${prefix}sess:{login:*`)).toEqual([]);
    for (let i = 0; i < 3; i++) await attempt(i % 2 ? a : b, 'dave', 'nope').expect(401);
    await attempt(a, 'dave', 'nope').expect(429);
    await attempt(b, 'dave', 'nope').expect(429);
    await attempt(a, 'dave', 'evad').expect(429);
  });

  describe('Redis frozen, then killed', () => {
    let own: TestRedis;
    let closed: INestApplication;
    let open: INestApplication;
    const loginTimeoutMs = 150;
    beforeAll(async () => {
      own = await startTestRedis();
      const downPrefix = uniquePrefix('login-down');
      closed = await startApp(own, downPrefix, { loginTimeoutMs });
      open = await startApp(own, downPrefix, { loginTimeoutMs, loginFailOpen: true });
    });
    afterAll(async () => {
      own?.resume();
      await closed?.close();
      await open?.close();
      await own?.stop();
    });

    /** One credential check (the throttle, then the in-memory lookup), timed in this process. */
    const timed = async (app: INestApplication) => {
      const t0 = Date.now();
      const outcome = await app
        .get(SessionAuthService)
        .verifyCredentials('carol', 'lorac', '203.0.113.9')
        .catch((e: unknown) => e);
      return { outcome, ms: Date.now() - t0 };
    };

    it('frozen: closed (default) refuses well before commandTimeout, 503 + Retry-After: 1; open lets the check through', async () => {
      await attempt(closed, 'carol', 'lorac').expect(200);
      own.pause();
      try {
        const refused = await timed(closed);
        const through = await timed(open);
        expect(refused.outcome).toBeInstanceOf(RedisTimeoutError);
        expect(through.outcome).toEqual({ id: 'carol' });
        // decided by loginTimeoutMs, not by commandTimeout (10 s); 2 s of margin for a loaded machine
        expect(refused.ms).toBeLessThan(loginTimeoutMs + 2_000);
        expect(through.ms).toBeLessThan(loginTimeoutMs + 2_000);
        const http = await attempt(closed, 'carol', 'lorac').expect(503);
        expect(http.headers['retry-after']).toBe('1');
        expect(open.get(SessionAuthService).stats.unthrottled).toBe(1);
      } finally {
        own.resume();
      }
      // Back: the throttle decides again at once.
      const deadline = Date.now() + 5_000;
      let back = await timed(closed);
      while (back.outcome instanceof RedisUnavailableError && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        back = await timed(closed);
      }
      expect(back.outcome).toEqual({ id: 'carol' });
    });

    it('killed: each fail mode applies at once', async () => {
      await own.kill();
      const refused = await timed(closed);
      const through = await timed(open);
      expect(refused.outcome).toBeInstanceOf(RedisUnavailableError);
      expect(through.outcome).toEqual({ id: 'carol' });
      expect(refused.ms).toBeLessThan(loginTimeoutMs + 2_000);
      expect(through.ms).toBeLessThan(loginTimeoutMs + 2_000);
      await attempt(closed, 'carol', 'lorac').expect(503);
      expect(open.get(SessionAuthService).stats.unthrottled).toBeGreaterThanOrEqual(2);
    });
  });
});
