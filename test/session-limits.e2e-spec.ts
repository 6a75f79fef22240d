/**
 * Session control on the reference service: the per-user session limit (evict-oldest and refuse-new, also when
 * logins race on two instances), the absolute lifetime, the routes that never read the session store (Redis down
 * with a session cookie), and the CSRF stance (JSON-only writes). Real Redis, topology-aware
 * (test/support/redis-harness.ts): one redis-server, or a 3-master cluster with REDIS_TOPOLOGY=cluster.
 */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { RedisSessionStore, SESSION_STORE, SessionAuthService } from '../src';
import { bootApp, type BootedApp } from './support/app-boot';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { sleep } from '../src/core/deadline';

/** `name=value` of the session cookie a response sets, or undefined. */
function sessionCookie(res: request.Response): string | undefined {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  return raw?.find((h) => h.startsWith('nrk.sid='))?.split(';')[0];
}

/** The session id inside a signed cookie `nrk.sid=s:<id>.<signature>`. */
function sidOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice('nrk.sid='.length));
  return value.slice(2, value.lastIndexOf('.'));
}

/** Short enough for a test, long enough that a login and a first request fit in it on a busy machine. */
const ABSOLUTE_MS = 3_000;

describe(`session limit, absolute lifetime, sessionless routes, CSRF (reference service: ${testTopology()})`, () => {
  let redis: TestRedis;
  let db: TestDatabase;
  let prefix: string;
  const booted: BootedApp[] = [];
  /** Two instances, limit 2, evict-oldest. */
  let evictA: INestApplication;
  let evictB: INestApplication;
  /** Two instances, limit 2, refuse-new. */
  let refuseA: INestApplication;
  let refuseB: INestApplication;
  /** One instance, no limit, absolute lifetime ABSOLUTE_MS. */
  let short: INestApplication;
  let users = 0;

  async function boot(env: Record<string, string>): Promise<INestApplication> {
    const app = await bootApp({
      ...redis.env,
      DATABASE_URL: db.url,
      REDIS_KEY_PREFIX: prefix,
      SESSION_COOKIE_SECURE: 'false',
      ...env,
    });
    booted.push(app);
    return app.app;
  }

  /** A new user (so that every test starts with no session): its credentials. */
  async function newUser(): Promise<{ username: string; password: string }> {
    const creds = { username: `cap-${++users}-${Date.now() % 100_000}`, password: 'cap-password-123' };
    await request(evictA.getHttpServer())
      .post('/users')
      .send({ ...creds, displayName: 'Cap', email: `${creds.username}@example.com` })
      .expect(201);
    return creds;
  }

  const loginRes = (app: INestApplication, creds: object) =>
    request(app.getHttpServer()).post('/auth/login').send(creds);
  async function login(app: INestApplication, creds: object): Promise<string> {
    const res = await loginRes(app, creds).expect(200);
    return sessionCookie(res)!;
  }
  const me = (app: INestApplication, cookie: string) =>
    request(app.getHttpServer()).get('/auth/me').set('Cookie', cookie);
  const status = async (app: INestApplication, cookie: string) => (await me(app, cookie)).status;

  /** The ids in the user's index (every master on a cluster: the index keys live in one slot). */
  async function indexed(app: INestApplication, cookie: string): Promise<string[]> {
    const id = String((await me(app, cookie).expect(200)).body.id);
    const c = redis.client();
    try {
      return await c.zrange(`${prefix}sess:{user:${id}}:index`, '0', '-1');
    } finally {
      c.disconnect();
    }
  }

  beforeAll(async () => {
    [redis, db] = await Promise.all([startTestRedis(), createTestDatabase('sesslim')]);
    prefix = uniquePrefix('slim');
    const evict = { SESSION_MAX_PER_USER: '2', SESSION_LIMIT_POLICY: 'evict-oldest' };
    const refuse = { SESSION_MAX_PER_USER: '2', SESSION_LIMIT_POLICY: 'refuse-new' };
    evictA = await boot(evict);
    [evictB, refuseA, refuseB, short] = await Promise.all([
      boot(evict),
      boot(refuse),
      boot(refuse),
      boot({ SESSION_ABSOLUTE_TIMEOUT_MS: String(ABSOLUTE_MS) }),
    ]);
  });

  afterAll(async () => {
    for (const app of booted) await app.close();
    await db?.drop();
    await redis?.stop();
  });

  describe('maxSessionsPerUser 2, evict-oldest', () => {
    it('a third login ends the oldest session: its next request is 401 on every instance', async () => {
      const user = await newUser();
      const first = await login(evictA, user);
      const second = await login(evictB, user);
      const evicted = evictA.get(SessionAuthService).stats.evicted;
      const third = await login(evictA, user);
      expect(await status(evictA, first)).toBe(401);
      expect(await status(evictB, first)).toBe(401);
      expect(await status(evictB, second)).toBe(200);
      expect(await status(evictA, third)).toBe(200);
      expect(evictA.get(SessionAuthService).stats.evicted).toBe(evicted + 1);
      const listed = await request(evictB.getHttpServer()).get('/auth/sessions').set('Cookie', third).expect(200);
      expect(listed.body.map((s: { id: string }) => s.id).sort()).toEqual([sidOf(second), sidOf(third)].sort());
      const c = redis.client();
      expect(await c.exists(`${prefix}sess:${sidOf(first)}`)).toBe(0);
      c.disconnect();
    });

    it('keeps exactly 2 sessions when three logins race on two instances', async () => {
      const user = await newUser();
      const answers = await Promise.all([evictA, evictB, evictA].map((app) => loginRes(app, user)));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
      const cookies = answers.map((r) => sessionCookie(r)!);
      const statuses = await Promise.all(cookies.map((c, i) => status(i % 2 ? evictA : evictB, c)));
      expect(statuses.filter((s) => s === 200)).toHaveLength(2);
      expect(statuses.filter((s) => s === 401)).toHaveLength(1);
      const live = cookies.filter((_c, i) => statuses[i] === 200);
      expect((await indexed(evictA, live[0])).sort()).toEqual(live.map(sidOf).sort());
    });

    it('a login that replaces the session of its own cookie evicts nothing (the old id is gone anyway)', async () => {
      const user = await newUser();
      const first = await login(evictA, user);
      const second = await login(evictA, user);
      const res = await loginRes(evictB, user).set('Cookie', second).expect(200);
      const renewed = sessionCookie(res)!;
      expect(await status(evictA, first)).toBe(200);
      expect(await status(evictA, second)).toBe(401);
      expect(await status(evictA, renewed)).toBe(200);
      expect((await indexed(evictA, first)).sort()).toEqual([sidOf(first), sidOf(renewed)].sort());
    });
  });

  describe('maxSessionsPerUser 2, refuse-new', () => {
    it('refuses a third login with 409 and a clear message, no cookie; the first two keep working', async () => {
      const user = await newUser();
      const first = await login(refuseA, user);
      const second = await login(refuseB, user);
      const refused = await loginRes(refuseA, user).expect(409);
      expect(refused.body.message).toMatch(/limited to 2 at once; log out of another session/);
      expect(sessionCookie(refused)).toBeUndefined();
      expect(await status(refuseB, first)).toBe(200);
      expect(await status(refuseA, second)).toBe(200);
      expect(refuseA.get(SessionAuthService).stats.refused).toBeGreaterThanOrEqual(1);
      expect((await indexed(refuseA, first)).sort()).toEqual([sidOf(first), sidOf(second)].sort());
      // a logout frees a place
      await request(refuseB.getHttpServer()).post('/auth/logout').set('Cookie', first).expect(204);
      const third = await login(refuseA, user);
      expect(await status(refuseB, third)).toBe(200);
    });

    it('admits exactly 2 of three logins racing on two instances; the refused one gets 409', async () => {
      const user = await newUser();
      const answers = await Promise.all([refuseA, refuseB, refuseA].map((app) => loginRes(app, user)));
      expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 409]);
      const cookies = answers.filter((r) => r.status === 200).map((r) => sessionCookie(r)!);
      for (const cookie of cookies) expect(await status(refuseB, cookie)).toBe(200);
      expect((await indexed(refuseA, cookies[0])).sort()).toEqual(cookies.map(sidOf).sort());
      expect(sessionCookie(answers.find((r) => r.status === 409)!)).toBeUndefined();
    });

    it('does not count sessions that ended (expired or deleted) against the limit', async () => {
      const user = await newUser();
      const first = await login(refuseA, user);
      await login(refuseA, user);
      await loginRes(refuseB, user).expect(409); // at the limit
      const c = redis.client();
      await c.del(`${prefix}sess:${sidOf(first)}`); // as if it had expired
      c.disconnect();
      const third = await login(refuseB, user);
      expect(await status(refuseA, third)).toBe(200);
    });
  });

  describe('absoluteTimeoutMs', () => {
    it('ends a session active all along at creation + absoluteTimeoutMs; the TTL is capped at it', async () => {
      const user = await newUser();
      const startedAt = Date.now();
      const cookie = await login(short, user);
      const loggedInAt = Date.now();
      const c = redis.client();
      const ttl = await c.pttl(`${prefix}sess:${sidOf(cookie)}`);
      c.disconnect();
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(ABSOLUTE_MS);
      // active all along: one request every 100 ms (each one would slide a 24 h idle expiry)
      const seen: Array<{ sentAt: number; answeredAt: number; status: number }> = [];
      while (Date.now() < loggedInAt + ABSOLUTE_MS + 15_000) {
        const sentAt = Date.now();
        const s = await status(short, cookie);
        seen.push({ sentAt, answeredAt: Date.now(), status: s });
        if (s === 401 && sentAt > loggedInAt + ABSOLUTE_MS) break;
        await sleep(100);
      }
      // answered before the session could be ABSOLUTE_MS old: alive; sent after it was: ended
      for (const r of seen.filter((x) => x.answeredAt < startedAt + ABSOLUTE_MS)) expect(r.status).toBe(200);
      for (const r of seen.filter((x) => x.sentAt > loggedInAt + ABSOLUTE_MS)) expect(r.status).toBe(401);
      expect(seen.some((r) => r.status === 200)).toBe(true);
      expect(seen[seen.length - 1].status).toBe(401);
    });

    it('checks the lifetime on read: a session past it is deleted and counted, even with a long TTL', async () => {
      const user = await newUser();
      const cookie = await login(short, user);
      const key = `${prefix}sess:${sidOf(cookie)}`;
      const c = redis.client();
      const data = JSON.parse((await c.get(key))!);
      expect(data.createdAtMs).toEqual(expect.any(Number));
      await c.set(key, JSON.stringify({ ...data, createdAtMs: Date.now() - ABSOLUTE_MS - 1 }), 'PX', 600_000);
      const store = short.get<RedisSessionStore>(SESSION_STORE);
      const before = store.stats.absoluteExpiries;
      expect(await status(short, cookie)).toBe(401);
      expect(store.stats.absoluteExpiries).toBe(before + 1);
      await sleep(50);
      expect(await c.exists(key)).toBe(0);
      c.disconnect();
    });
  });

  describe('CSRF: JSON-only writes (with SameSite=Lax)', () => {
    it.each([
      ['application/x-www-form-urlencoded', 'username=x&password=y'],
      ['text/plain', '{"username":"x","password":"y"}'],
    ])('refuses a cross-site form post (%s) to state-changing routes: 415, nothing changes', async (type, body) => {
      const user = await newUser();
      const cookie = await login(evictA, user);
      const http = evictA.getHttpServer();
      const post = (path: string) =>
        request(http).post(path).set('Cookie', cookie).set('Origin', 'https://evil.example').type(type).send(body);
      const logout = await post('/auth/logout').expect(415);
      expect(logout.body.message).toMatch(/application\/json bodies only/);
      await request(http).delete('/auth/sessions').set('Cookie', cookie).type(type).send(body).expect(415);
      await post('/orders').expect(415);
      // login CSRF: a form cannot log the victim into another account
      const forged = await request(http)
        .post('/auth/login')
        .type(type)
        .send(type === 'text/plain' ? JSON.stringify(user) : new URLSearchParams(user).toString())
        .expect(415);
      expect(sessionCookie(forged)).toBeUndefined();
      expect(await status(evictA, cookie)).toBe(200); // still logged in
    });
  });

  describe('routes that never read the session store', () => {
    const PATHS = ['/health', '/metrics', '/docs-json', '/docs-yaml', '/docs'];

    it('answer with a session cookie exactly as without, no Set-Cookie, no store read', async () => {
      const user = await newUser();
      const cookie = await login(evictA, user);
      const store = evictA.get<RedisSessionStore>(SESSION_STORE);
      for (const path of PATHS) {
        const reads = store.stats.reads;
        const withCookie = await request(evictA.getHttpServer()).get(path).set('Cookie', cookie);
        const without = await request(evictA.getHttpServer()).get(path);
        expect({ path, status: withCookie.status }).toEqual({ path, status: without.status });
        expect({ path, cookie: sessionCookie(withCookie) }).toEqual({ path, cookie: undefined });
        expect({ path, reads: store.stats.reads }).toEqual({ path, reads });
      }
      // a session route sets the rolling cookie: the difference is the scoping
      expect(sessionCookie(await me(evictA, cookie).expect(200))).toBeDefined();
    });

    it('answer while Redis is down with a session cookie exactly as without (no 503 from sessions)', async () => {
      const user = await newUser();
      const cookie = await login(evictA, user);
      await redis.kill(); // every node of a cluster; the last test of the suite
      expect((await me(evictA, cookie)).status).toBe(503); // a session route needs Redis
      for (const path of PATHS) {
        const without = await request(evictA.getHttpServer()).get(path);
        const withCookie = await request(evictA.getHttpServer()).get(path).set('Cookie', cookie);
        expect({ path, status: withCookie.status }).toEqual({ path, status: without.status });
        expect({ path, cookie: sessionCookie(withCookie) }).toEqual({ path, cookie: undefined });
        if (path !== '/health') expect({ path, status: withCookie.status }).toEqual({ path, status: 200 });
      }
    });
  });
});
