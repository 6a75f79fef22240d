/**
 * Operations of the reference service: JSON logs (request id on every line, secrets redacted),
 * Prometheus /metrics that move with the traffic, and /health/ready (Redis AND the database).
 * The app's log lines are captured by overriding the pino destination with an in-memory stream.
 */
import { Controller, Get, Logger, type INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { PARAMS_PROVIDER_TOKEN, type Params } from 'nestjs-pino';
import type { Options } from 'pino-http';
import request from 'supertest';
import { AppModule } from '../src/app/app.module';
import { configureApp } from '../src/app/app.setup';
import type { AppConfig } from '../src/app/config/app.config';
import { loggingParams } from '../src/app/logging/logging.module';
import { ORDERS_STREAM } from '../src/app/orders/order.events';
import { createTestDatabase } from './support/test-database';
import { startRedis, uniquePrefix, type RedisServer } from './support/redis-harness';

/** A route that logs from inside a request, like any service code would. */
@Controller('log-probe')
class LogProbeController {
  private readonly logger = new Logger('LogProbe');

  @Get()
  probe(): { ok: true } {
    this.logger.log('inside the handler');
    this.logger.warn({ msg: 'credentials seen', user: { name: 'ann', password: 'hunter2-secret' } });
    return { ok: true };
  }
}

/** Every JSON line the app logged. */
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const l of chunk.toString('utf8').split('\n'))
      if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
    done();
  },
});

/** Value of one sample in Prometheus text (first match), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

describe('reference service operations: logs, metrics, readiness', () => {
  let server: RedisServer;
  let app: INestApplication;
  let database: { url: string; drop(): Promise<void> };
  let dataDir: string;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    server = await startRedis();
    database = await createTestDatabase('obs');
    dataDir = mkdtempSync(join(tmpdir(), 'nrk-obs-'));
    const env = {
      REDIS_URL: server.url,
      REDIS_KEY_PREFIX: uniquePrefix('obs'),
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
    };
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    const ref = await Test.createTestingModule({ imports: [AppModule], controllers: [LogProbeController] })
      .overrideProvider(PARAMS_PROVIDER_TOKEN)
      .useFactory({
        inject: [ConfigService],
        factory: (config: ConfigService<AppConfig, true>): Params => {
          const params = loggingParams(config);
          return { ...params, pinoHttp: [params.pinoHttp as Options, sink] };
        },
      })
      .compile();
    app = ref.createNestApplication();
    configureApp(app);
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await server?.stop();
  });

  describe('structured logs', () => {
    it('puts the X-Request-Id on every line of a request and echoes it', async () => {
      lines.length = 0;
      const res = await request(app.getHttpServer())
        .get('/log-probe')
        .set('X-Request-Id', 'req-abc.123')
        .set('Cookie', 'nrk.sid=s%3Asecret-session-cookie')
        .set('Authorization', 'Bearer secret-token')
        .expect(200);
      expect(res.headers['x-request-id']).toBe('req-abc.123');
      const mine = lines.filter((l) => l.reqId === 'req-abc.123' || (l.req as { id?: string })?.id === 'req-abc.123');
      expect(mine.map((l) => l.msg)).toEqual(
        expect.arrayContaining(['inside the handler', 'credentials seen', 'request completed']),
      );
      const inside = mine.find((l) => l.msg === 'inside the handler')!;
      expect(inside).toMatchObject({ reqId: 'req-abc.123', context: 'LogProbe', level: 30 });
      expect(inside).not.toHaveProperty('req'); // quiet: the id, not the whole request, on each line
    });

    it('redacts cookies, authorization and passwords', () => {
      const text = lines.map((l) => JSON.stringify(l)).join('\n');
      expect(text).not.toContain('secret-session-cookie');
      expect(text).not.toContain('secret-token');
      expect(text).not.toContain('hunter2-secret');
      const completed = lines.find((l) => l.msg === 'request completed')!;
      expect((completed.req as { headers: Record<string, string> }).headers).toMatchObject({
        cookie: '[redacted]',
        authorization: '[redacted]',
      });
    });

    it('makes a new id when X-Request-Id is missing or unsafe', async () => {
      const bad = await request(app.getHttpServer()).get('/log-probe').set('X-Request-Id', 'has spaces {}').expect(200);
      expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const none = await request(app.getHttpServer()).get('/log-probe').expect(200);
      expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(none.headers['x-request-id']).not.toBe(bad.headers['x-request-id']);
    });
  });

  describe('/metrics', () => {
    it('exposes Redis and feature metrics that move with the traffic', async () => {
      const http = request(app.getHttpServer());
      const before = (await http.get('/metrics').expect(200)).text;
      expect(sample(before, 'nrk_redis_connection_up', { client: 'default' })).toBe(1);
      const cmdBefore =
        sample(before, 'nrk_redis_command_duration_seconds_count', { client: 'default', command: 'get' }) ?? 0;
      await http.get('/users/1').expect(200);
      await http.get('/users/1').expect(200);
      const after = (await http.get('/metrics').expect(200)).text;
      const cmdAfter =
        sample(after, 'nrk_redis_command_duration_seconds_count', { client: 'default', command: 'get' }) ?? 0;
      expect(cmdAfter).toBeGreaterThan(cmdBefore);
      expect(after).toContain('nrk_process_cpu_user_seconds_total');
    });

    it('maps the stats of every feature to metrics: cache, sessions, messaging, locks, rate limits', async () => {
      const http = request(app.getHttpServer());
      await http.get('/users/1').expect(200); // cached now, if it was not yet
      const before = (await http.get('/metrics').expect(200)).text;
      await http.get('/users/1').expect(200); // a hit
      await http.post('/auth/login').send({ username: 'demo', password: 'wrong-password' }).expect(401);
      await http.post('/auth/login').send({ username: 'demo', password: 'demo-password' }).expect(200);
      const after = (await http.get('/metrics').expect(200)).text;
      const grew = (name: string) => (sample(after, name) ?? 0) - (sample(before, name) ?? 0);
      expect(grew('nrk_cache_hits_total')).toBeGreaterThanOrEqual(1);
      expect(grew('nrk_session_logins_total')).toBe(1);
      expect(grew('nrk_session_login_failures_total')).toBe(1);
      expect(sample(after, 'nrk_session_active')).toBeGreaterThanOrEqual(1);
      // the stream gauges read the consumers of this process (the reminders' group on the order.created event stream;
      // the notifications service's transport group is in the transport's gauges)
      const stream = ORDERS_STREAM;
      expect(sample(after, 'nrk_messaging_consumer_group_lag', { stream, group: 'reminders' })).toBeGreaterThanOrEqual(
        0,
      );
      expect(sample(after, 'nrk_messaging_dead_letter_queue_length', { stream })).toBeGreaterThanOrEqual(0);
      for (const name of [
        'nrk_cache_misses_total',
        'nrk_cache_errors_total',
        'nrk_messaging_published_total',
        'nrk_messaging_handled_total',
        'nrk_messaging_failed_total',
        'nrk_messaging_dead_lettered_total',
        'nrk_messaging_consumer_group_lag',
        'nrk_lock_acquisitions_total',
        'nrk_lock_wait_seconds_total',
        'nrk_lock_extensions_total',
        'nrk_lock_losses_total',
        'nrk_semaphore_acquisitions_total',
        'nrk_ratelimit_allowed_total',
        'nrk_ratelimit_refused_total',
        'nrk_ratelimit_failed_open_total',
        'nrk_ratelimit_failed_closed_total',
      ]) {
        expect(after).toContain(`# TYPE ${name} `);
      }
    });
  });

  describe('/health and /health/ready', () => {
    it('is ready when Redis and the database answer', async () => {
      const res = await request(app.getHttpServer()).get('/health/ready').expect(200);
      expect(res.body).toMatchObject({ status: 'ok', info: { redis: { status: 'up' }, database: { status: 'up' } } });
    });

    it('answers 503 naming Redis while Redis does not answer', async () => {
      server.pause();
      try {
        const res = await request(app.getHttpServer()).get('/health/ready').expect(503);
        expect(res.body.error.redis.status).toBe('down');
        expect(res.body.info.database.status).toBe('up');
      } finally {
        server.resume();
      }
      await request(app.getHttpServer()).get('/health/ready').expect(200);
    });

    it('answers 503 naming the database when it is gone, while /health (Redis only) stays 200', async () => {
      await database.drop();
      const res = await request(app.getHttpServer()).get('/health/ready').expect(503);
      expect(res.body.error.database.status).toBe('down');
      expect(res.body.info.redis.status).toBe('up');
      await request(app.getHttpServer()).get('/health').expect(200);
    });
  });
});
