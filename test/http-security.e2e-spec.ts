import type { ArgumentsHost } from '@nestjs/common';
import request from 'supertest';
import { AppExceptionFilter } from '../src/app/common/exception.filter';
import { startRedis, uniquePrefix, type RedisServer } from './support/redis-harness';
import { bootApp, type BootedApp } from './support/app-boot';

const PROD_SECRET = 'prod-secret-for-tests-0123456789';

describe('Reference service HTTP hardening', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('defaults (production)', () => {
    let booted: BootedApp;
    let prefix: string;
    beforeAll(async () => {
      prefix = uniquePrefix('sec');
      booted = await bootApp({
        REDIS_URL: server.url,
        REDIS_KEY_PREFIX: prefix,
        NODE_ENV: 'production',
        SESSION_SECRET: PROD_SECRET,
        CORS_ORIGINS: undefined,
        RATE_LIMIT_PER_MINUTE: undefined,
        LOGIN_RATE_LIMIT_PER_MINUTE: undefined,
      });
    });
    afterAll(async () => {
      await booted?.close();
    });

    it('sends helmet security headers and no X-Powered-By', async () => {
      const res = await request(booted.app.getHttpServer()).get('/health');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('answers a body over 100 kB with 413 and a JSON message', async () => {
      const res = await request(booted.app.getHttpServer())
        .post('/users')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ username: 'x'.repeat(110 * 1024) }));
      expect(res.status).toBe(413);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body).toEqual({ statusCode: 413, message: 'request body larger than 100 kB' });
    });

    it('answers malformed JSON with 400, without a stack trace', async () => {
      const res = await request(booted.app.getHttpServer())
        .post('/users')
        .set('content-type', 'application/json')
        .send('{"username":');
      expect(res.status).toBe(400);
      expect(res.text).not.toMatch(/\s+at\s+\S+\s\(|node_modules|\.ts:\d+/);
    });

    it('sends no CORS headers when CORS_ORIGINS is unset', async () => {
      const res = await request(booted.app.getHttpServer()).get('/health').set('Origin', 'https://evil.example');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('rate-limits by default in production (X-RateLimit-Limit: 1000 per minute)', async () => {
      const res = await request(booted.app.getHttpServer()).get('/health');
      expect(res.headers['x-ratelimit-limit']).toBe('1000');
      const admin = server.client();
      const keys = await admin.keys(`${prefix}throttle:*`);
      admin.disconnect();
      expect(keys.length).toBeGreaterThan(0);
    });
  });

  it('answers an unexpected error with a bare 500, never its message or stack', () => {
    const sent: { status?: number; body?: unknown } = {};
    const res = {
      headersSent: false,
      status(code: number) {
        sent.status = code;
        return this;
      },
      json(body: unknown) {
        sent.body = body;
        return this;
      },
      setHeader: () => undefined,
    };
    const host = {
      getType: () => 'http',
      switchToHttp: () => ({ getResponse: () => res }),
    } as unknown as ArgumentsHost;
    const filter = new AppExceptionFilter();
    (filter as unknown as { logger: { error: () => void } }).logger = { error: () => undefined };
    filter.catch(new Error(`db password ${PROD_SECRET} at /src/x.ts:1`), host);
    expect(sent).toEqual({ status: 500, body: { statusCode: 500, message: 'Internal server error' } });
  });

  describe('configured limits', () => {
    let booted: BootedApp;
    let prefix: string;
    beforeAll(async () => {
      prefix = uniquePrefix('sec');
      booted = await bootApp({
        REDIS_URL: server.url,
        REDIS_KEY_PREFIX: prefix,
        CORS_ORIGINS: 'https://app.example, https://admin.example',
        HTTP_BODY_LIMIT_KB: '2',
        RATE_LIMIT_PER_MINUTE: '8',
        LOGIN_RATE_LIMIT_PER_MINUTE: '2',
      });
    });
    afterAll(async () => {
      await booted?.close();
    });

    it('allows the configured CORS origins (with credentials) and no others', async () => {
      const http = booted.app.getHttpServer();
      const ok = await request(http)
        .options('/users')
        .set('Origin', 'https://admin.example')
        .set('Access-Control-Request-Method', 'POST');
      expect(ok.status).toBeLessThan(300);
      expect(ok.headers['access-control-allow-origin']).toBe('https://admin.example');
      expect(ok.headers['access-control-allow-credentials']).toBe('true');
      const other = await request(http).get('/health').set('Origin', 'https://evil.example');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('applies HTTP_BODY_LIMIT_KB', async () => {
      const res = await request(booted.app.getHttpServer())
        .post('/users')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ displayName: 'x'.repeat(3 * 1024) }));
      expect(res.status).toBe(413);
    });

    it('limits POST /auth/login per IP more tightly than other routes, with 429 + Retry-After', async () => {
      const http = booted.app.getHttpServer();
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await request(http)
          .post('/auth/login')
          .send({ username: `nobody${i}`, password: 'wrong-password' });
        statuses.push(res.status);
        if (res.status === 429) {
          expect(Number(res.headers['retry-after-login'])).toBeGreaterThan(0);
          expect(res.body.statusCode).toBe(429);
        }
      }
      expect(statuses.slice(0, 2).every((s) => s !== 429)).toBe(true);
      expect(statuses[2]).toBe(429);
      // Other routes are still under their own (global) limit.
      expect((await request(http).get('/health')).status).not.toBe(429);
    });

    it('limits every route per IP (RATE_LIMIT_PER_MINUTE), shared in Redis', async () => {
      const http = booted.app.getHttpServer();
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await request(http).get('/users/1')).status);
      expect(statuses).toContain(429);
      const admin = server.client();
      const keys = await admin.keys(`${prefix}throttle:*`);
      admin.disconnect();
      expect(keys.some((k) => k.startsWith(`${prefix}throttle:{default:`))).toBe(true);
    });
  });

  it('fails open when Redis is down: requests are still served (no 429, no 5xx from the limiter)', async () => {
    const own = await startRedis();
    const booted = await bootApp({ REDIS_URL: own.url, RATE_LIMIT_PER_MINUTE: '2', LOGIN_RATE_LIMIT_PER_MINUTE: '1' });
    try {
      await own.kill();
      const http = booted.app.getHttpServer();
      for (let i = 0; i < 4; i++) {
        const started = Date.now();
        const res = await request(http).post('/users').send({});
        expect(res.status).toBe(400); // validation runs: the guard let the request through
        expect(Date.now() - started).toBeLessThan(1_500);
      }
    } finally {
      await booted.close();
      await own.stop();
    }
  });
});
