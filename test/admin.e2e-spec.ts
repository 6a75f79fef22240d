/**
 * The operations page (AdminModule) on the reference service at /admin, on a real Redis (one server, or a 3-master
 * cluster with REDIS_TOPOLOGY=cluster): access (anonymous 401, non-admin 403, admin 200, on the page and the API),
 * streams, dead letters (browse, read, redrive, delete; idempotent), sessions revoked, locks listed, cache cleared,
 * bad input 400, read-only 403, the module refusing to start without a guard; then the page itself in headless
 * Chromium (screenshots in test/artifacts/admin/).
 */
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import {
  AdminModule,
  type AdminStreamView,
  CacheService,
  LockService,
  RedisConfigError,
  RedisModule,
  SemaphoreService,
  StreamConsumer,
  StreamProducer,
} from '../src';
import { AppModule } from '../src/app/app.module';
import { configureApp } from '../src/app/app.setup';
import { ARTIFACTS, browserIt, withChromium } from './support/chromium';
import { startRedis, startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const STREAM = 'admin-jobs';
const DEMO = { username: 'demo', password: 'demo-password' };
const OPS = { username: 'ops', password: 'ops-password-123', displayName: 'Ops', email: 'ops@example.com' };
const SHOTS = join(ARTIFACTS, 'admin');
const itBrowser = browserIt('admin.e2e-spec');

/** A consumer that fails while `failing` is set (one attempt: straight to the DLQ) and records what it handled. */
@Injectable()
class FlakyJobs {
  static failing = true;
  static handled: unknown[] = [];

  @StreamConsumer({ stream: STREAM, group: 'workers', maxAttempts: 1, blockMs: 100, backoffMs: 10 })
  handle(payload: { n: number }): void {
    if (FlakyJobs.failing) throw new Error(`boom on ${payload.n}`);
    FlakyJobs.handled.push(payload.n);
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe(`operations page (reference service at /admin: ${testTopology()})`, () => {
  let redis: TestRedis;
  let db: TestDatabase;
  let app: INestApplication;
  let admin: string;
  let demo: string;
  let demoId: number;
  const saved: Record<string, string | undefined> = {};

  const http = () => request(app.getHttpServer());
  const get = (path: string, cookie = admin) => http().get(path).set('Cookie', cookie);
  const post = (path: string, body?: object, cookie = admin) => {
    const r = http().post(path).set('Cookie', cookie);
    return body === undefined ? r : r.send(body);
  };
  const dlq = async () =>
    (await get(`/admin/api/streams/${STREAM}/dlq`).expect(200)).body as {
      items: Array<{ id: string; error: string; message: { payload: { n: number } } }>;
      total: number;
      next: string | null;
    };

  async function login(creds: { username: string; password: string }, ua = 'jest'): Promise<string> {
    const res = await http().post('/auth/login').set('User-Agent', ua).send(creds).expect(200);
    const raw = res.headers['set-cookie'] as unknown as string[];
    return raw.find((h) => h.startsWith('nrk.sid='))!.split(';')[0];
  }

  async function deadLetter(n: number): Promise<void> {
    FlakyJobs.failing = true;
    const before = (await dlq()).total;
    await app.get(StreamProducer).add(STREAM, { n });
    await until(`message ${n} in the DLQ`, async () => ((await dlq()).total > before ? true : undefined));
  }

  beforeAll(async () => {
    [redis, db] = await Promise.all([startTestRedis(), createTestDatabase('admin')]);
    const env: Record<string, string> = {
      ...redis.env,
      DATABASE_URL: db.url,
      REDIS_KEY_PREFIX: uniquePrefix('admin'),
      SESSION_COOKIE_SECURE: 'false',
      ADMIN_USERS: 'ops',
      NODE_ENV: 'test',
    };
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    try {
      const ref = await Test.createTestingModule({ imports: [AppModule], providers: [FlakyJobs] }).compile();
      app = ref.createNestApplication({ logger: ['error'] });
      configureApp(app);
      await app.listen(0, '127.0.0.1');
    } finally {
      // The environment is read while the app is created: restored at once, no other suite code sees it.
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    await http().post('/users').send(OPS).expect(201);
    admin = await login({ username: OPS.username, password: OPS.password });
    demo = await login(DEMO);
    demoId = (await http().get('/auth/me').set('Cookie', demo).expect(200)).body.id as number;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await redis?.stop();
  });

  it('answers 401 to anonymous and 403 to a user without the admin role, on the page and the API', async () => {
    for (const path of ['/admin', '/admin/api/streams', '/admin/assets/admin.js']) {
      await http().get(path).expect(401);
      await get(path, demo).expect(403);
    }
    await http().post(`/admin/api/streams/${STREAM}/dlq/redrive`).send({ all: true }).expect(401);
    await post(`/admin/api/streams/${STREAM}/dlq/redrive`, { all: true }, demo).expect(403);
    // A change a browser says comes from another site is refused, even with the admin's cookie.
    const forged = await post('/admin/api/cache/clear').set('Sec-Fetch-Site', 'cross-site').expect(403);
    expect(forged.body.message).toMatch(/same origin/);
  });

  it('serves the page, its script and its style sheet under a strict CSP (no inline code)', async () => {
    const page = await get('/admin').expect(200);
    expect(page.headers['content-type']).toContain('text/html');
    const csp = page.headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.text).toContain('src="/admin/assets/admin.js"');
    expect(page.text).not.toMatch(/<script>|<style>|style="/);
    const js = await get('/admin/assets/admin.js').expect(200);
    expect(js.headers['content-type']).toContain('javascript');
    expect(js.text).toContain("'/api'");
    await get('/admin/assets/admin.css')
      .expect(200)
      .expect('Content-Type', /text\/css/);
  });

  it('shows the streams with groups, consumers, pending and lag', async () => {
    await deadLetter(1);
    const { streams } = (await get('/admin/api/streams').expect(200)).body as {
      streams: Array<{ name: string; length: number; deadLetters: number; groups: Array<Record<string, unknown>> }>;
    };
    const jobs = streams.find((s) => s.name === STREAM)!;
    expect(jobs.length).toBeGreaterThanOrEqual(1);
    expect(jobs.deadLetters).toBeGreaterThanOrEqual(1);
    expect(jobs).toMatchObject({ delayed: 0, nextDueAtMs: null });
    expect(jobs.groups[0]).toMatchObject({ name: 'workers', pending: 0, lag: 0, oldestPendingAgeMs: null });
    expect((jobs.groups[0].consumers as unknown[]).length).toBeGreaterThanOrEqual(1);
    // A delayed message waits in the stream's delayed set: counted, with its due time.
    const producer = app.get(StreamProducer);
    const later = await producer.add(STREAM, { n: 2 }, { delayMs: 600_000 });
    const withDelayed = ((await get('/admin/api/streams').expect(200)).body.streams as AdminStreamView[]).find(
      (s) => s.name === STREAM,
    )!;
    expect(withDelayed.delayed).toBe(1);
    expect(withDelayed.nextDueAtMs).toBe(later.dueAt!.getTime());
    expect(await producer.cancel(STREAM, later.envelope.id)).toBe(true);
    const server = (await get('/admin/api/server').expect(200)).body.servers as Array<{ version: string }>;
    expect(server.length).toBe(testTopology() === 'cluster' ? 3 : 1);
    expect(server[0].version).toMatch(/^\d+\./);
  });

  it('browses, reads and redrives a dead letter: consumed afterwards, the DLQ empty, a second redrive a no-op', async () => {
    await post(`/admin/api/streams/${STREAM}/dlq/delete`, { all: true }).expect(200);
    await deadLetter(7);
    const page = await dlq();
    expect(page.total).toBe(1);
    const [letter] = page.items;
    expect(letter.error).toContain('boom on 7');
    expect(letter.message.payload).toEqual({ n: 7 });
    const one = (await get(`/admin/api/streams/${STREAM}/dlq/${letter.id}`).expect(200)).body;
    expect(one).toMatchObject({ id: letter.id, error: 'boom on 7', attempts: 1, group: 'workers' });

    FlakyJobs.failing = false;
    const first = (await post(`/admin/api/streams/${STREAM}/dlq/${letter.id}/redrive`).expect(200)).body;
    expect(first.streamId).toMatch(/^\d+-\d+$/);
    await until('the redriven message handled', async () => (FlakyJobs.handled.includes(7) ? true : undefined));
    expect((await dlq()).total).toBe(0);
    expect((await post(`/admin/api/streams/${STREAM}/dlq/${letter.id}/redrive`).expect(200)).body).toEqual({
      streamId: null,
    });
    await get(`/admin/api/streams/${STREAM}/dlq/${letter.id}`).expect(404);
    expect(FlakyJobs.handled.filter((n) => n === 7)).toHaveLength(1);
  });

  it('pages through the DLQ, redrives a filtered set, deletes one and all', async () => {
    for (const n of [21, 22, 23]) await deadLetter(n);
    const first = (await get(`/admin/api/streams/${STREAM}/dlq?limit=2`).expect(200)).body;
    expect(first.items).toHaveLength(2);
    const second = (await get(`/admin/api/streams/${STREAM}/dlq?limit=2&after=${first.next}`).expect(200)).body;
    expect(second.items).toHaveLength(1);
    expect(second.next).toBeNull();

    FlakyJobs.failing = false;
    const filtered = (
      await post(`/admin/api/streams/${STREAM}/dlq/redrive`, { filter: { error: 'on 22' } }).expect(200)
    ).body;
    expect(filtered).toEqual({ done: 1, more: false });
    await until('22 handled', async () => (FlakyJobs.handled.includes(22) ? true : undefined));
    const left = await dlq();
    expect(left.items.map((i) => i.message.payload.n).sort()).toEqual([21, 23]);

    await http().delete(`/admin/api/streams/${STREAM}/dlq/${left.items[0].id}`).set('Cookie', admin).expect(200);
    await http().delete(`/admin/api/streams/${STREAM}/dlq/${left.items[0].id}`).set('Cookie', admin).expect(404);
    expect((await post(`/admin/api/streams/${STREAM}/dlq/delete`, { all: true }).expect(200)).body.done).toBe(1);
    expect((await dlq()).total).toBe(0);
  });

  it('answers 400 with a clear message to bad input', async () => {
    const cases: Array<[request.Test, RegExp]> = [
      [get('/admin/api/streams/a%7Bb/dlq'), /stream must be/],
      [get(`/admin/api/streams/${STREAM}/dlq/not-an-id`), /stream entry id/],
      [get(`/admin/api/streams/${STREAM}/dlq?limit=0`), /limit must be an integer from 1 to 500/],
      [get(`/admin/api/streams/${STREAM}/dlq?after=x`), /after must be/],
      [post(`/admin/api/streams/${STREAM}/dlq/redrive`, {}), /"all": true/],
      [
        post(`/admin/api/streams/${STREAM}/dlq/redrive`, { filter: { colour: 'red' } }),
        /filter.colour is not a filter/,
      ],
      [post(`/admin/api/streams/${STREAM}/dlq/redrive`, { all: true, filter: { error: 'x' } }), /either/],
    ];
    for (const [req, message] of cases) {
      const res = await req.expect(400);
      expect(res.body.message).toMatch(message);
    }
  });

  it("lists a user's sessions and revokes one (its next request 401) and then all", async () => {
    const other = await login(DEMO, 'second-browser');
    const sessions = (await get(`/admin/api/users/${demoId}/sessions`).expect(200)).body.sessions as Array<{
      id: string;
      userAgent: string;
    }>;
    const target = sessions.find((s) => s.userAgent === 'second-browser')!;
    expect(target).toBeDefined();
    expect(
      (await http().delete(`/admin/api/users/${demoId}/sessions/${target.id}`).set('Cookie', admin).expect(200)).body,
    ).toEqual({ revoked: 1 });
    await http().get('/auth/me').set('Cookie', other).expect(401);
    await http().get('/auth/me').set('Cookie', demo).expect(200);
    await http().delete(`/admin/api/users/${demoId}/sessions/${target.id}`).set('Cookie', admin).expect(404);
    const all = (await http().delete(`/admin/api/users/${demoId}/sessions`).set('Cookie', admin).expect(200)).body;
    expect(all.revoked).toBeGreaterThanOrEqual(1);
    await http().get('/auth/me').set('Cookie', demo).expect(401);
    demo = await login(DEMO);
  });

  it('lists the locks and semaphore permits held, with holder, lease left and fence', async () => {
    const lock = await app.get(LockService).acquire('admin-test:resource', { ttlMs: 30_000 });
    const permit = await app.get(SemaphoreService).acquire('admin-test:pool', { limit: 2, ttlMs: 30_000 });
    try {
      const body = (await get('/admin/api/locks').expect(200)).body as {
        locks: Array<{ resource: string; holder: string; leaseLeftMs: number; fence: number | null }>;
        semaphores: Array<{ name: string; permits: Array<{ leaseLeftMs: number }> }>;
      };
      const found = body.locks.find((l) => l.resource === 'admin-test:resource')!;
      expect(found.holder).toMatch(/^[0-9a-f]{32}:/);
      expect(found.leaseLeftMs).toBeGreaterThan(0);
      expect(found.leaseLeftMs).toBeLessThanOrEqual(30_000);
      expect(found.fence).toBe(lock.fence);
      const sem = body.semaphores.find((s) => s.name === 'admin-test:pool')!;
      expect(sem.permits).toHaveLength(1);
    } finally {
      await lock.release();
      await permit.release();
    }
    const after = (await get('/admin/api/locks').expect(200)).body as { locks: Array<{ resource: string }> };
    expect(after.locks.find((l) => l.resource === 'admin-test:resource')).toBeUndefined();
  });

  it('shows the cache counters and clears the cache namespace', async () => {
    const cache = app.get(CacheService);
    await cache.set('admin-test:k', { v: 1 });
    expect(await cache.get('admin-test:k')).toEqual({ v: 1 });
    const stats = (await get('/admin/api/cache').expect(200)).body;
    expect(stats.hits).toBeGreaterThanOrEqual(1);
    expect(stats.hitRatio).toBeGreaterThan(0);
    expect((await post('/admin/api/cache/clear').expect(200)).body.removed).toBeGreaterThanOrEqual(1);
    expect(await cache.get('admin-test:k')).toBeUndefined();
    const jobs = (await get('/admin/api/schedule').expect(200)).body.jobs as Array<{ name: string }>;
    expect(jobs.length).toBeGreaterThanOrEqual(1);
  });

  itBrowser(
    'in Chromium: sees a dead letter, redrives it (consumed, DLQ empty), revokes a session (screenshots)',
    async () => {
      await deadLetter(99);
      FlakyJobs.failing = false;
      const victim = await login(DEMO, 'victim-browser');
      const { port } = app.getHttpServer().address() as AddressInfo;
      const origin = `http://127.0.0.1:${port}`;
      mkdirSync(SHOTS, { recursive: true });
      await withChromium(async (context) => {
        const page = context.pages()[0] ?? (await context.newPage());
        const problems: string[] = [];
        page.on('pageerror', (err) => problems.push(err.message));
        page.on('response', (r) => {
          if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(`${r.status()} ${r.url()}`);
        });
        page.on('dialog', (d) => void d.accept());
        const res = await page.request.post(`${origin}/auth/login`, {
          data: { username: OPS.username, password: OPS.password },
        });
        expect(res.status()).toBe(200);
        await page.goto(`${origin}/admin`, { waitUntil: 'load' });
        await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });
        const row = page.locator(`#streams tr[data-stream="${STREAM}"]`);
        await row.locator('button.browse').click();
        await page.waitForSelector('#dlq tr[data-id]', { timeout: 10_000 });
        expect(await page.textContent('#dlq')).toContain('boom on 99');
        await page.locator('#dlq tr[data-id] button.read').first().click();
        await page.waitForSelector('#dlq-detail:not([hidden])');
        expect(await page.textContent('#dlq-detail')).toContain('Failure: boom on 99');
        await page.screenshot({ path: join(SHOTS, 'dlq.png'), fullPage: true });

        await page.locator('#dlq tr[data-id] button.redrive').first().click();
        await page.locator('#dlq-total', { hasText: /^0$/ }).waitFor({ timeout: 15_000 });
        await until('99 handled', async () => (FlakyJobs.handled.includes(99) ? true : undefined));
        await row.locator('.dlq-count', { hasText: /^0$/ }).waitFor({ timeout: 15_000 });
        await page.screenshot({ path: join(SHOTS, 'redriven.png'), fullPage: true });

        await page.fill('#user-id', String(demoId));
        await page.click('#user-load');
        await page.waitForSelector('#sessions tr[data-sid]');
        const sessions = (await get(`/admin/api/users/${demoId}/sessions`).expect(200)).body.sessions as Array<{
          id: string;
          userAgent: string;
        }>;
        const sid = sessions.find((s) => s.userAgent === 'victim-browser')!.id;
        await page.locator(`#sessions tr[data-sid="${sid}"] button.revoke`).click();
        await page.waitForSelector(`#sessions tr[data-sid="${sid}"]`, { state: 'detached', timeout: 10_000 });
        await http().get('/auth/me').set('Cookie', victim).expect(401);
        await page.waitForSelector('#charts canvas');
        await page.screenshot({ path: join(SHOTS, 'session-revoked.png'), fullPage: true });
        expect(problems).toEqual([]);
      });
    },
    90_000,
  );
});

describe(`AdminModule options (${testTopology()})`, () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('refuses to start without a guard unless allowUnguarded', async () => {
    const compile = Test.createTestingModule({
      imports: [RedisModule.forRoot({ ...redis.connection, keyPrefix: uniquePrefix('adm') }), AdminModule.forRoot({})],
    }).compile();
    await expect(compile).rejects.toThrow(RedisConfigError);
    await expect(compile).rejects.toThrow(/admin.guard.*is required/);
  });

  it('readOnly: reads answer, every change is refused with 403', async () => {
    const ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ ...redis.connection, keyPrefix: uniquePrefix('adm') }),
        AdminModule.forRoot({ allowUnguarded: true, readOnly: true, path: 'ops' }),
      ],
    }).compile();
    const app = ref.createNestApplication({ logger: ['error'] });
    await app.init();
    try {
      const http = request(app.getHttpServer());
      expect((await http.get('/ops/api/overview').expect(200)).body).toMatchObject({
        readOnly: true,
        features: { sessions: false, cache: false },
      });
      await http.get('/ops/api/streams').expect(200);
      await http.post('/ops/api/streams/x/dlq/redrive').send({ all: true }).expect(403);
      await http.delete('/ops/api/streams/x/dlq/1-0').expect(403);
      await http.post('/ops/api/cache/clear').expect(403);
      const absent = await http.get('/ops/api/cache').expect(404);
      expect(absent.body.message).toMatch(/no cache/);
    } finally {
      await app.close();
    }
  });

  it('answers 503 within commandTimeoutMs when Redis is frozen, and recovers', async () => {
    const server = await startRedis();
    const ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ ...server.connection, keyPrefix: uniquePrefix('adm') }),
        AdminModule.forRoot({ allowUnguarded: true, commandTimeoutMs: 300 }),
      ],
    }).compile();
    const app = ref.createNestApplication({ logger: false });
    await app.init();
    try {
      const http = () => request(app.getHttpServer());
      await http().get('/admin/api/streams').expect(200);
      server.pause();
      const frozen = await http().get('/admin/api/streams').expect(503);
      expect(frozen.body.message).toMatch(/300 ?ms/);
      server.resume();
      await http().get('/admin/api/streams').expect(200);
    } finally {
      server.resume();
      await app.close();
      await server.stop();
    }
  });
});
