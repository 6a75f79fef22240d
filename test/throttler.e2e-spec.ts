import { Controller, Get, Logger, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import request from 'supertest';
import { RedisModule, RedisService, RedisTimeoutError } from '../src/redis';
import { RedisThrottlerStorage, type RedisThrottlerStorageOptions } from '../src/throttler';
import { startRedis, uniquePrefix, type RedisServer } from './support/redis-harness';

@Controller('ping')
class PingController {
  @Get()
  ping(): { ok: boolean } {
    return { ok: true };
  }
}

let lastStorage: RedisThrottlerStorage | undefined;

async function makeApp(
  server: RedisServer,
  prefix: string,
  throttler: { limit: number; ttl: number; blockDuration?: number },
  storageOptions: RedisThrottlerStorageOptions = {},
): Promise<INestApplication> {
  const ref = await Test.createTestingModule({
    imports: [
      RedisModule.forRoot({ url: server.url, keyPrefix: prefix, commandTimeoutMs: 10_000 }),
      ThrottlerModule.forRootAsync({
        inject: [RedisService],
        useFactory: (redis: RedisService) => {
          lastStorage = new RedisThrottlerStorage(redis, storageOptions);
          return { throttlers: [throttler], storage: lastStorage };
        },
      }),
    ],
    controllers: [PingController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  }).compile();
  const app = ref.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe('RedisThrottlerStorage (@nestjs/throttler on the shared client)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('counts hits of every instance together, answers 429 with Retry-After over the limit, under <prefix>throttle:', async () => {
    const prefix = uniquePrefix('thr');
    const a = await makeApp(server, prefix, { limit: 3, ttl: 60_000 });
    const b = await makeApp(server, prefix, { limit: 3, ttl: 60_000 });
    try {
      expect((await request(a.getHttpServer()).get('/ping')).status).toBe(200);
      expect((await request(b.getHttpServer()).get('/ping')).status).toBe(200);
      const third = await request(a.getHttpServer()).get('/ping');
      expect(third.status).toBe(200);
      expect(third.headers['x-ratelimit-remaining']).toBe('0');
      const fourth = await request(b.getHttpServer()).get('/ping');
      expect(fourth.status).toBe(429);
      expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(0);
      const admin = server.client();
      const keys = await admin.keys(`${prefix}*`);
      admin.disconnect();
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) expect(k.startsWith(`${prefix}throttle:{default:`)).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('lets the tracker in again once the block has expired', async () => {
    const prefix = uniquePrefix('thr');
    const app = await makeApp(server, prefix, { limit: 1, ttl: 500, blockDuration: 500 });
    try {
      expect((await request(app.getHttpServer()).get('/ping')).status).toBe(200);
      expect((await request(app.getHttpServer()).get('/ping')).status).toBe(429);
      await new Promise((r) => setTimeout(r, 700));
      expect((await request(app.getHttpServer()).get('/ping')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('fails open when Redis is frozen: the request waits at most timeoutMs for the counter', async () => {
    const own = await startRedis();
    const app = await makeApp(own, uniquePrefix('thr'), { limit: 1, ttl: 60_000 }, { timeoutMs: 200 });
    try {
      expect((await request(app.getHttpServer()).get('/ping')).status).toBe(200);
      own.pause();
      const started = Date.now();
      const res = await request(app.getHttpServer()).get('/ping');
      const waitedMs = Date.now() - started;
      own.resume();
      expect(res.status).toBe(200);
      expect(waitedMs).toBeLessThan(2_500); // timeoutMs, not commandTimeout (10 s)
      expect(lastStorage?.failedOpen).toBe(1);
    } finally {
      own.resume();
      await app.close();
      await own.stop();
    }
  });

  it('fails open when Redis is down, and counts again once it is back; one log line each way', async () => {
    const own = await startRedis();
    const app = await makeApp(own, uniquePrefix('thr'), { limit: 2, ttl: 60_000 });
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const log = jest.spyOn(Logger.prototype, 'log');
    try {
      await own.kill();
      for (let i = 0; i < 4; i++) expect((await request(app.getHttpServer()).get('/ping')).status).toBe(200);
      expect(lastStorage?.failedOpen).toBe(4);
      await own.start();
      const redis = app.get(RedisService).getClient();
      for (let i = 0; i < 50 && redis.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 100));
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await request(app.getHttpServer()).get('/ping')).status);
      expect(statuses).toEqual([200, 200, 429]);
      const lines = (spy: jest.SpyInstance, pattern: RegExp) =>
        spy.mock.calls.filter((c) => pattern.test(String(c[0])));
      expect(lines(warn, /^Redis unavailable for the rate limiter \(.+\): requests are let through/)).toHaveLength(1);
      expect(lines(log, /^Redis is back for the rate limiter after \d+ ms$/)).toHaveLength(1);
      expect(lastStorage?.stats).toMatchObject({ failedOpen: 4, outages: 1 });
      expect(lastStorage?.stats.errors).toBeGreaterThanOrEqual(1);
    } finally {
      warn.mockRestore();
      log.mockRestore();
      await app.close();
      await own.stop();
    }
  });

  it('with failOpen: false, a Redis outage is an error (the app maps it to 503)', async () => {
    const own = await startRedis();
    const app = await makeApp(own, uniquePrefix('thr'), { limit: 2, ttl: 60_000 }, { failOpen: false });
    try {
      await own.kill();
      const res = await request(app.getHttpServer()).get('/ping');
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(lastStorage?.failedOpen).toBe(0);
    } finally {
      await app.close();
      await own.stop();
    }
  });

  it('with failOpen: false, a frozen Redis is a RedisTimeoutError after timeoutMs', async () => {
    const own = await startRedis();
    const app = await makeApp(own, uniquePrefix('thr'), { limit: 2, ttl: 60_000 }, { failOpen: false, timeoutMs: 150 });
    try {
      const storage = lastStorage as RedisThrottlerStorage;
      expect((await storage.increment('t', 60_000, 2, 0, 'default')).totalHits).toBe(1);
      own.pause();
      const started = Date.now();
      const err = await storage.increment('t', 60_000, 2, 0, 'default').catch((e: unknown) => e);
      const waitedMs = Date.now() - started;
      own.resume();
      expect(err).toBeInstanceOf(RedisTimeoutError);
      expect((err as RedisTimeoutError).timeoutMs).toBe(150);
      expect(waitedMs).toBeLessThan(2_500); // timeoutMs, not commandTimeout (10 s)
      expect(storage.stats).toEqual({ failedOpen: 0, errors: 1, outages: 1 });
    } finally {
      own.resume();
      await app.close();
      await own.stop();
    }
  });

  it('rejects a non-positive timeoutMs with a RedisConfigError', () => {
    expect(() => new RedisThrottlerStorage({} as RedisService, { timeoutMs: 0 })).toThrow(
      /Invalid option "throttler.timeoutMs"/,
    );
  });
});
