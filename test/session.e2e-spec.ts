/**
 * Sessions and login end to end on the reference service: two instances on one real Redis and one PostgreSQL
 * database, supertest requests carrying the session cookie by hand (so one cookie can visit both). Topology-aware
 * (test/support/redis-harness.ts): one redis-server, or a 3-master cluster with REDIS_TOPOLOGY=cluster.
 */
import { Controller, Get, Query, Req, UseGuards, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Request } from 'express';
import request from 'supertest';
import { RedisSessionStore, SESSION_STORE, SessionAuthGuard, SessionAuthService } from '../src';
import { AppModule } from '../src/app/app.module';
import { configureApp } from '../src/app/app.setup';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { sleep } from '../src/core/deadline';

/** Test-only route (not in the app): reads the session, modifies it, and answers after `ms`. */
@Controller('test')
class SlowController {
  @Get('slow')
  @UseGuards(SessionAuthGuard)
  async slow(@Req() req: Request, @Query('ms') ms = '600'): Promise<{ ok: true }> {
    (req.session as unknown as Record<string, unknown>).lastSlowAt = Date.now();
    await sleep(Number(ms));
    return { ok: true };
  }
}

const OLD_SECRET = 'old-secret-0123456789-abcdef';
const NEW_SECRET = 'new-secret-0123456789-abcdef';
const DEMO = { username: 'demo', password: 'demo-password' };

async function boot(env: Record<string, string>): Promise<INestApplication> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    const ref = await Test.createTestingModule({ imports: [AppModule], controllers: [SlowController] }).compile();
    const app = ref.createNestApplication({ logger: ['error'] });
    configureApp(app);
    await app.init();
    return app;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** `name=value` of the session cookie in a response, or undefined. */
function sessionCookie(res: request.Response): string | undefined {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  const c = raw?.find((h) => h.startsWith('nrk.sid='));
  return c?.split(';')[0];
}

function sidOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice('nrk.sid='.length));
  return value.slice(2, value.lastIndexOf('.'));
}

describe(`sessions and login (reference service, two instances, one Redis: ${testTopology()})`, () => {
  let redis: TestRedis;
  let db: TestDatabase;
  let a: INestApplication;
  let b: INestApplication;
  let prefix: string;
  let env: Record<string, string>;
  const direct = () => redis.client();

  async function login(app: INestApplication, creds = DEMO, ua = 'jest'): Promise<string> {
    const res = await request(app.getHttpServer()).post('/auth/login').set('User-Agent', ua).send(creds).expect(200);
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    return cookie!;
  }
  const me = (app: INestApplication, cookie: string) =>
    request(app.getHttpServer()).get('/auth/me').set('Cookie', cookie);

  beforeAll(async () => {
    [redis, db] = await Promise.all([startTestRedis(), createTestDatabase('sess')]);
    prefix = uniquePrefix('sess');
    env = {
      ...redis.env, // REDIS_URL or REDIS_CLUSTER_NODES
      DATABASE_URL: db.url,
      REDIS_KEY_PREFIX: prefix,
      SESSION_SECRET: OLD_SECRET,
      SESSION_COOKIE_SECURE: 'false',
      LOGIN_MAX_ATTEMPTS: '3',
      LOGIN_WINDOW_MS: '60000',
    };
    a = await boot(env);
    b = await boot(env);
    await request(a.getHttpServer())
      .post('/users')
      .send({ username: 'other', displayName: 'Other', email: 'other@example.com', password: 'other-password' })
      .expect(201);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    await redis?.stop();
  });

  it('logs in (200, user without hash, secure-by-default cookie), serves /me, logs out (204, cookie cleared)', async () => {
    const res = await request(a.getHttpServer()).post('/auth/login').send(DEMO).expect(200);
    expect(res.body).toMatchObject({ username: 'demo', displayName: 'Demo User' });
    expect(JSON.stringify(res.body)).not.toMatch(/hash|scrypt/i);
    const setCookie = (res.headers['set-cookie'] as unknown as string[]).find((h) => h.startsWith('nrk.sid='))!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).toMatch(/Expires=/);
    const cookie = sessionCookie(res)!;
    const c = direct();
    const ttl = await c.pttl(`${prefix}sess:${sidOf(cookie)}`);
    expect(ttl).toBeGreaterThan(86_000_000);
    expect(ttl).toBeLessThanOrEqual(86_400_000);
    await me(a, cookie)
      .expect(200)
      .expect((r) => expect(r.body.username).toBe('demo'));
    const out = await request(a.getHttpServer()).post('/auth/logout').set('Cookie', cookie).expect(204);
    expect((out.headers['set-cookie'] as unknown as string[])[0]).toMatch(/^nrk\.sid=;.*Expires=Thu, 01 Jan 1970/);
    await me(a, cookie).expect(401);
    expect(await c.exists(`${prefix}sess:${sidOf(cookie)}`)).toBe(0);
    c.disconnect();
  });

  it('answers 401 with the same message for an unknown user and a wrong password; no cookie', async () => {
    const wrong = await request(a.getHttpServer()).post('/auth/login').send({ username: 'demo', password: 'nope' });
    const unknown = await request(a.getHttpServer()).post('/auth/login').send({ username: 'ghost', password: 'nope' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.message).toBe(unknown.body.message);
    expect(sessionCookie(wrong)).toBeUndefined();
    await request(a.getHttpServer()).get('/auth/me').expect(401);
  });

  it.each([
    ['missing password', { username: 'demo' }],
    ['wrong-typed username', { username: 42, password: 'x' }],
    ['oversized password', { username: 'demo', password: 'x'.repeat(5000) }],
    ['unknown field', { username: 'demo', password: 'demo-password', admin: true }],
  ])('rejects a login body with %s: 400', async (_label, body) => {
    const res = await request(a.getHttpServer()).post('/auth/login').send(body).expect(400);
    expect(Array.isArray(res.body.message)).toBe(true);
    expect(sessionCookie(res)).toBeUndefined();
  });

  it('regenerates the session id on login: the old id stops working (fixation)', async () => {
    const first = await login(a);
    const res = await request(a.getHttpServer()).post('/auth/login').set('Cookie', first).send(DEMO).expect(200);
    const second = sessionCookie(res)!;
    expect(sidOf(second)).not.toBe(sidOf(first));
    await me(a, first).expect(401);
    await me(a, second).expect(200);
    const c = direct();
    expect(await c.exists(`${prefix}sess:${sidOf(first)}`)).toBe(0);
    c.disconnect();
  });

  it('serves a session on any instance: login on A, /me on B; logout on B, A sees it at once', async () => {
    const cookie = await login(a);
    await me(b, cookie).expect(200);
    await request(b.getHttpServer()).post('/auth/logout').set('Cookie', cookie).expect(204);
    await me(a, cookie).expect(401);
  });

  it('lists my sessions (current marked), revokes one (next request on every instance), 404 for others', async () => {
    const mine1 = await login(a, DEMO, 'browser-one');
    const mine2 = await login(b, DEMO, 'browser-two');
    const theirs = await login(a, { username: 'other', password: 'other-password' });
    const list = await request(a.getHttpServer()).get('/auth/sessions').set('Cookie', mine1).expect(200);
    const ids = (
      list.body as Array<{ id: string; current: boolean; userAgent: string; ip: string; createdAt: string }>
    ).map((s) => s.id);
    expect(ids).toEqual(expect.arrayContaining([sidOf(mine1), sidOf(mine2)]));
    expect(ids).not.toContain(sidOf(theirs));
    const current = list.body.find((s: { current: boolean }) => s.current);
    expect(current).toMatchObject({ id: sidOf(mine1), userAgent: 'browser-one' });
    expect(current.ip).toBeTruthy();
    expect(Date.parse(current.createdAt)).toBeGreaterThan(0);

    await request(a.getHttpServer())
      .delete(`/auth/sessions/${encodeURIComponent(sidOf(theirs))}`)
      .set('Cookie', mine1)
      .expect(404);
    await request(a.getHttpServer()).delete('/auth/sessions/not-a-session').set('Cookie', mine1).expect(404);
    await me(a, theirs).expect(200);

    await request(a.getHttpServer())
      .delete(`/auth/sessions/${encodeURIComponent(sidOf(mine2))}`)
      .set('Cookie', mine1)
      .expect(204);
    await me(b, mine2).expect(401);
    await me(a, mine2).expect(401);
    await me(a, mine1).expect(200);

    const mine3 = await login(b);
    const mine4 = await login(b);
    const revoked = await request(a.getHttpServer()).delete('/auth/sessions').set('Cookie', mine1).expect(200);
    expect(revoked.body.revoked).toBeGreaterThanOrEqual(2);
    await me(b, mine3).expect(401);
    await me(a, mine4).expect(401);
    await me(b, mine1).expect(200);
    const after = await request(b.getHttpServer()).get('/auth/sessions').set('Cookie', mine1).expect(200);
    expect(after.body.map((s: { id: string }) => s.id)).toEqual([sidOf(mine1)]);
    await me(a, theirs).expect(200);

    const auth = a.get(SessionAuthService);
    expect(auth.stats.revoked).toBeGreaterThanOrEqual(3);
    expect(await auth.countActiveSessions()).toBeGreaterThanOrEqual(2);
  });

  it('prunes the index of sessions that ended by themselves', async () => {
    const cookie = await login(a);
    const gone = await login(a);
    const c = direct();
    await c.del(`${prefix}sess:${sidOf(gone)}`); // as if it expired
    const list = await request(a.getHttpServer()).get('/auth/sessions').set('Cookie', cookie).expect(200);
    expect(list.body.map((s: { id: string }) => s.id)).not.toContain(sidOf(gone));
    const userId = String((await me(a, cookie)).body.id);
    expect(await c.zscore(`${prefix}sess:{user:${userId}}:index`, sidOf(gone))).toBeNull();
    expect(await c.pttl(`${prefix}sess:{user:${userId}}:index`)).toBeGreaterThan(0);
    c.disconnect();
  });

  it('throttles failed logins per username + IP: 429 with Retry-After; success resets the counter', async () => {
    const http = a.getHttpServer();
    for (let i = 0; i < 3; i++)
      await request(http).post('/auth/login').send({ username: 'other', password: 'bad' }).expect(401);
    const limited = await request(http).post('/auth/login').send({ username: 'other', password: 'bad' }).expect(429);
    const retry = Number(limited.headers['retry-after']);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    // even the right password is refused while throttled, on every instance
    await request(b.getHttpServer())
      .post('/auth/login')
      .send({ username: 'other', password: 'other-password' })
      .expect(429);
    // another username from the same IP is not affected; a success resets its counter
    for (let i = 0; i < 2; i++)
      await request(http).post('/auth/login').send({ username: 'demo', password: 'bad' }).expect(401);
    await login(a);
    for (let i = 0; i < 3; i++)
      await request(http).post('/auth/login').send({ username: 'demo', password: 'bad' }).expect(401);
    await request(http).post('/auth/login').send({ username: 'demo', password: 'bad' }).expect(429);
    const c = direct();
    const keys = await redis.keys(`${prefix}sess:{login:*`); // every master
    await Promise.all(keys.map((k) => c.del(k)));
    c.disconnect();
    expect(a.get(SessionAuthService).stats.throttled).toBeGreaterThanOrEqual(2);
  });

  it('treats a session value that is not JSON as no session (401, logged), never 500', async () => {
    const cookie = await login(a);
    const c = direct();
    await c.set(`${prefix}sess:${sidOf(cookie)}`, '{not json', 'PX', 60_000);
    await me(a, cookie).expect(401);
    await c.set(`${prefix}sess:${sidOf(cookie)}`, '[1,2]', 'PX', 60_000);
    await me(b, cookie).expect(401);
    c.disconnect();
    const store = a.get<RedisSessionStore>(SESSION_STORE);
    expect(store.stats.corrupt).toBeGreaterThanOrEqual(1);
  });

  it('rejects a tampered or unsigned cookie: 401', async () => {
    const cookie = await login(a);
    const value = decodeURIComponent(cookie.slice('nrk.sid='.length));
    const tampered = value.slice(0, -2) + (value.endsWith('AA') ? 'BB' : 'AA');
    await me(a, `nrk.sid=${encodeURIComponent(tampered)}`).expect(401);
    await me(a, `nrk.sid=${encodeURIComponent(sidOf(cookie))}`).expect(401);
    await me(a, `nrk.sid=${encodeURIComponent(`s:${sidOf(cookie)}.${'x'.repeat(43)}`)}`).expect(401);
    await me(a, cookie).expect(200);
  });

  it('accepts cookies signed with an older secret after rotation (new secret first)', async () => {
    const oldCookie = await login(a);
    const rotated = await boot({ ...env, SESSION_SECRET: `${NEW_SECRET},${OLD_SECRET}` });
    try {
      await me(rotated, oldCookie).expect(200);
      const newCookie = await login(rotated);
      await me(rotated, newCookie).expect(200);
      await me(a, newCookie).expect(401); // A does not know the new secret yet
    } finally {
      await rotated.close();
    }
  });

  it('does not resurrect a session when a slow request ends after logout (race)', async () => {
    const cookie = await login(a);
    const store = a.get<RedisSessionStore>(SESSION_STORE);
    const prevented = store.stats.resurrectionsPrevented;
    const slow = request(a.getHttpServer())
      .get('/test/slow?ms=800')
      .set('Cookie', cookie)
      .then((r) => r.status);
    await sleep(250); // the slow request has read the session by now
    await request(b.getHttpServer()).post('/auth/logout').set('Cookie', cookie).expect(204);
    expect(await slow).toBe(200);
    await sleep(50);
    const c = direct();
    expect(await c.exists(`${prefix}sess:${sidOf(cookie)}`)).toBe(0);
    c.disconnect();
    await me(a, cookie).expect(401);
    expect(store.stats.resurrectionsPrevented).toBe(prevented + 1);
  });

  it('keeps a slow request that modifies a live session working (writes back when not destroyed)', async () => {
    const cookie = await login(a);
    await request(a.getHttpServer()).get('/test/slow?ms=50').set('Cookie', cookie).expect(200);
    const c = direct();
    const raw = await c.get(`${prefix}sess:${sidOf(cookie)}`);
    c.disconnect();
    expect(JSON.parse(raw!).lastSlowAt).toEqual(expect.any(Number));
  });

  it('answers 503 (never 401, never a new session) while Redis is down, and recovers without restart', async () => {
    const cookie = await login(a);
    await redis.kill(); // every node of a cluster
    const down = await me(a, cookie);
    expect(down.status).toBe(503);
    expect(sessionCookie(down)).toBeUndefined();
    const loginDown = await request(a.getHttpServer()).post('/auth/login').send(DEMO);
    expect(loginDown.status).toBe(503);
    expect(sessionCookie(loginDown)).toBeUndefined();
    await me(b, cookie).expect(503);
    await redis.start(); // empty: no persistence, so the old session is gone
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await request(a.getHttpServer()).post('/auth/login').send(DEMO)).status;
      if (status === 200) break;
      await sleep(200);
    }
    expect(status).toBe(200);
    const fresh = await login(b);
    await me(a, fresh).expect(200);
  });

  it('answers 503 when Redis hangs (paused) and serves the same session once it answers again', async () => {
    const cookie = await login(a);
    redis.pause();
    try {
      await me(a, cookie).expect(503);
    } finally {
      redis.resume();
    }
    await sleep(100);
    await me(a, cookie).expect(200);
  });
});
