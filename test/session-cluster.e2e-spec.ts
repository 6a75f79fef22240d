/**
 * The session module on its own (no reference service): a small Nest app with an in-memory user lookup, on a
 * 3-master Redis Cluster and on a standalone server; plus option validation.
 */
import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Injectable,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
  type INestApplication,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Request, Response } from 'express';
import type { SessionData } from 'express-session';
import { RedisStore } from 'connect-redis';
import { Cluster } from 'ioredis';
import request from 'supertest';
import {
  CurrentUser,
  LocalLoginGuard,
  RedisConfigError,
  RedisModule,
  RedisService,
  RedisSessionStore,
  SESSION_STORE,
  SessionAuthGuard,
  SessionAuthService,
  SessionIndex,
  SessionModule,
  SessionUserLookup,
  resolveSessionOptions,
} from '../src';
import {
  startCluster,
  startRedis,
  uniquePrefix,
  type RedisClusterHandle,
  type RedisServer,
} from './support/redis-harness';
import { sleep } from '../src/core/deadline';

interface DemoUser {
  id: string;
  name: string;
}

/** The consuming application's side: users in memory. */
@Injectable()
class MemoryUsers extends SessionUserLookup<DemoUser> {
  private readonly users = new Map([
    ['alice', { id: 'u1', name: 'alice', password: 'alice-password' }],
    ['bob', { id: 'u2', name: 'bob', password: 'bob-password' }],
  ]);
  async validateCredentials(username: string, password: string): Promise<DemoUser | null> {
    const u = this.users.get(username);
    return u && u.password === password ? { id: u.id, name: u.name } : null;
  }
  async findById(id: string): Promise<DemoUser | null> {
    const u = [...this.users.values()].find((x) => x.id === id);
    return u ? { id: u.id, name: u.name } : null;
  }
  getId(user: DemoUser): string {
    return user.id;
  }
}

@Controller()
class DemoController {
  constructor(private readonly sessions: SessionAuthService<DemoUser>) {}
  @Post('login')
  @HttpCode(200)
  @UseGuards(LocalLoginGuard)
  login(@CurrentUser() user: DemoUser): DemoUser {
    return user;
  }
  @Get('me')
  @UseGuards(SessionAuthGuard)
  me(@CurrentUser() user: DemoUser): DemoUser {
    return user;
  }
  @Get('slow')
  @UseGuards(SessionAuthGuard)
  async slow(@Req() req: Request, @Query('ms') ms = '500'): Promise<string> {
    (req.session as unknown as Record<string, unknown>).touchedAt = Date.now();
    await sleep(Number(ms));
    return 'ok';
  }
  @Post('logout')
  @HttpCode(204)
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.sessions.logout(req, res);
  }
  @Get('sessions')
  @UseGuards(SessionAuthGuard)
  list(@CurrentUser() user: DemoUser, @Req() req: Request) {
    return this.sessions.listSessions(user.id, req.sessionID);
  }
  @Delete('sessions/:id')
  @UseGuards(SessionAuthGuard)
  async revoke(@CurrentUser() user: DemoUser, @Param('id') id: string) {
    return { revoked: await this.sessions.revokeSession(user.id, id) };
  }
  @Delete('sessions')
  @UseGuards(SessionAuthGuard)
  async revokeOthers(@CurrentUser() user: DemoUser, @Req() req: Request) {
    return { revoked: await this.sessions.revokeOtherSessions(user.id, req.sessionID) };
  }
}

const SECRET = 'cluster-secret-0123456789';

function cookieOf(res: request.Response): string {
  const raw = res.headers['set-cookie'] as unknown as string[];
  return raw.find((h) => h.startsWith('nrk.sid='))!.split(';')[0];
}
function sidOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice('nrk.sid='.length));
  return value.slice(2, value.lastIndexOf('.'));
}

describe('SessionModule on a 3-master cluster', () => {
  let cluster: RedisClusterHandle;
  let app: INestApplication;
  let prefix: string;
  let probe: Cluster;

  beforeAll(async () => {
    cluster = await startCluster(3);
    prefix = uniquePrefix('sessc');
    const ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ nodes: cluster.seeds, keyPrefix: prefix }),
        SessionModule.forRoot({ secrets: [SECRET], secure: false, ttlMs: 60_000, userLookup: MemoryUsers }),
      ],
      controllers: [DemoController],
    }).compile();
    app = ref.createNestApplication({ logger: ['error'] });
    await app.init();
    probe = new Cluster(cluster.seeds);
  });

  afterAll(async () => {
    probe?.disconnect();
    await app?.close();
    await cluster?.stop();
  });

  const http = () => request(app.getHttpServer());
  const login = async (name = 'alice') =>
    cookieOf(
      await http()
        .post('/login')
        .send({ username: name, password: `${name}-password` })
        .expect(200),
    );

  it('logs in, serves /me, keeps TTL in ms from cookie.maxAge, logs out', async () => {
    const cookie = await login();
    await http().get('/me').set('Cookie', cookie).expect(200, { id: 'u1', name: 'alice' });
    const ttl = await probe.pttl(`${prefix}sess:${sidOf(cookie)}`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await http().post('/logout').set('Cookie', cookie).expect(204);
    await http().get('/me').set('Cookie', cookie).expect(401);
  });

  it('keeps sessions of one user on several masters and the index in one slot; list and revoke work', async () => {
    const cookies = await Promise.all(Array.from({ length: 6 }, () => login()));
    const slots = new Set(cookies.map((c) => keySlot(`${prefix}sess:${sidOf(c)}`)));
    expect(slots.size).toBeGreaterThan(1);
    expect(keySlot(`${prefix}sess:{user:u1}:index`)).toBe(keySlot(`${prefix}sess:{user:u1}:meta`));
    const list = await http().get('/sessions').set('Cookie', cookies[0]).expect(200);
    expect(list.body.map((s: { id: string }) => s.id)).toEqual(expect.arrayContaining(cookies.map(sidOf)));
    await http()
      .delete(`/sessions/${encodeURIComponent(sidOf(cookies[1]))}`)
      .set('Cookie', cookies[0])
      .expect(200, { revoked: true });
    await http().get('/me').set('Cookie', cookies[1]).expect(401);
    const bob = await login('bob');
    await http()
      .delete(`/sessions/${encodeURIComponent(sidOf(bob))}`)
      .set('Cookie', cookies[0])
      .expect(200, { revoked: false });
    const others = await http().delete('/sessions').set('Cookie', cookies[0]).expect(200);
    expect(others.body.revoked).toBeGreaterThanOrEqual(4);
    for (const c of cookies.slice(1)) await http().get('/me').set('Cookie', c).expect(401);
    await http().get('/me').set('Cookie', cookies[0]).expect(200);
    await http().get('/me').set('Cookie', bob).expect(200);
    const count = await app.get(SessionAuthService).countActiveSessions();
    expect(count).toBeGreaterThanOrEqual(2);
  });

  it('does not resurrect a session destroyed while a slow request runs', async () => {
    const cookie = await login();
    const slow = http()
      .get('/slow?ms=600')
      .set('Cookie', cookie)
      .then((r) => r.status);
    await sleep(200);
    await http().post('/logout').set('Cookie', cookie).expect(204);
    expect(await slow).toBe(200);
    expect(await probe.exists(`${prefix}sess:${sidOf(cookie)}`)).toBe(0);
    expect(app.get<RedisSessionStore>(SESSION_STORE).stats.resurrectionsPrevented).toBeGreaterThanOrEqual(1);
  });

  it('touch() extends the TTL without rewriting the data (rolling)', async () => {
    const cookie = await login();
    const key = `${prefix}sess:${sidOf(cookie)}`;
    await probe.pexpire(key, 10_000);
    const before = await probe.get(key);
    await http().get('/me').set('Cookie', cookie).expect(200);
    expect(await probe.pttl(key)).toBeGreaterThan(50_000);
    expect(await probe.get(key)).toBe(before);
  });

  it('sends one PEXPIRE per touch interval for a busy session, and every touch that shortens its expiry', async () => {
    const cookie = await login();
    const key = `${prefix}sess:${sidOf(cookie)}`;
    await http().get('/me').set('Cookie', cookie).expect(200); // this instance's first touch: sent
    await probe.pexpire(key, 30_000);
    await http().get('/me').set('Cookie', cookie).expect(200); // within the interval (6 s = ttl/10): skipped
    expect(await probe.pttl(key)).toBeLessThanOrEqual(30_000);

    const p = `${prefix}direct-touch:`;
    const store = new RedisSessionStore({ client: probe, prefix: p, defaultTtlMs: 60_000, rolling: true });
    const touch = (maxAgeMs: number) =>
      new Promise<void>((resolve, reject) =>
        store.touch(
          's1',
          { cookie: { originalMaxAge: maxAgeMs, maxAge: maxAgeMs } } as unknown as SessionData,
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    await probe.set(`${p}s1`, '{"cookie":{}}', 'PX', 60_000);
    await touch(60_000);
    await probe.pexpire(`${p}s1`, 40_000);
    await touch(60_000); // barely later than the expiry this store gave: skipped
    expect(await probe.pttl(`${p}s1`)).toBeLessThanOrEqual(40_000);
    await touch(20_000); // shorter: sent
    const shortened = await probe.pttl(`${p}s1`);
    expect(shortened).toBeLessThanOrEqual(20_000);
    expect(shortened).toBeGreaterThan(10_000);
    await touch(60_000); // later by more than the interval: sent
    expect(await probe.pttl(`${p}s1`)).toBeGreaterThan(50_000);
    await probe.del(`${p}s1`);
  });

  it('moves the index entry with a sliding session (touch), at most once per refresh interval', async () => {
    const p = `${prefix}direct:`;
    const index = new SessionIndex(probe, p);
    const store = new RedisSessionStore({ client: probe, prefix: p, defaultTtlMs: 10_000, rolling: true, index });
    const sess = {
      cookie: { originalMaxAge: 10_000, maxAge: 10_000 },
      passport: { user: 'u9' },
    } as unknown as SessionData;
    await probe.set(`${p}s1`, JSON.stringify(sess), 'PX', 10_000);
    await index.add('u9', 's1', Date.now() + 10_000, {
      createdAt: new Date().toISOString(),
      userAgent: 'x',
      ip: '::1',
    });
    const touch = () =>
      new Promise<void>((resolve, reject) => store.touch('s1', sess, (err) => (err ? reject(err) : resolve())));
    await touch(); // first touch of this instance: moves the entry
    await sleep(50);
    const first = Number(await probe.zscore(index.indexKey('u9'), 's1'));
    await sleep(300);
    await touch(); // within the refresh interval (1 s = ttl/10): the entry stays
    await sleep(50);
    expect(Number(await probe.zscore(index.indexKey('u9'), 's1'))).toBe(first);
    await sleep(800);
    await touch();
    await sleep(50);
    const moved = Number(await probe.zscore(index.indexKey('u9'), 's1'));
    expect(moved).toBeGreaterThan(first + 900);
    expect(await probe.pttl(index.indexKey('u9'))).toBeGreaterThan(60_000); // outlives the session by the slack
    expect((await index.list('u9')).map((e) => e.id)).toEqual(['s1']);
    await probe.del(`${p}s1`);
    expect(await index.list('u9')).toEqual([]);
    expect(await probe.exists(index.indexKey('u9'))).toBe(0); // pruned, then empty → gone
  });

  it('throttles logins on the cluster too', async () => {
    for (let i = 0; i < 5; i++) await http().post('/login').send({ username: 'bob', password: 'wrong' }).expect(401);
    // no exception filter of the app here: the library alone answers 429 + Retry-After
    const res = await http().post('/login').send({ username: 'bob', password: 'bob-password' }).expect(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(800);
    expect(app.get(SessionAuthService).stats.throttled).toBe(1);
  });
});

describe('SessionModule with rolling: false (standalone)', () => {
  let server: RedisServer;
  let app: INestApplication;
  const prefix = uniquePrefix('sessr');

  beforeAll(async () => {
    server = await startRedis();
    const ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ url: server.url, keyPrefix: prefix }),
        SessionModule.forRoot({
          secrets: [SECRET],
          secure: false,
          ttlMs: 60_000,
          rolling: false,
          userLookup: MemoryUsers,
        }),
      ],
      controllers: [DemoController],
    }).compile();
    app = ref.createNestApplication({ logger: ['error'] });
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  it('does not extend the TTL on reads and does not re-send the cookie (absolute expiry)', async () => {
    const res = await request(app.getHttpServer())
      .post('/login')
      .send({ username: 'alice', password: 'alice-password' })
      .expect(200);
    const cookie = cookieOf(res);
    const c = server.client();
    const key = `${prefix}sess:${sidOf(cookie)}`;
    await c.pexpire(key, 10_000);
    const me = await request(app.getHttpServer()).get('/me').set('Cookie', cookie).expect(200);
    expect(me.headers['set-cookie']).toBeUndefined();
    expect(await c.pttl(key)).toBeLessThanOrEqual(10_000);
    c.disconnect();
  });

  it('answers 400, 401 and 503 + Retry-After on its own, without an exception filter of the app', async () => {
    const http = () => request(app.getHttpServer());
    const alice = { username: 'alice', password: 'alice-password' };
    const bad = await http().post('/login').send({ username: 42, password: 'x', admin: true }).expect(400);
    expect(bad.body.message).toEqual(['username must be a string', 'property admin should not exist']);
    const wrong = await http().post('/login').send({ username: 'alice', password: 'nope' }).expect(401);
    expect(wrong.body.message).toBe('Invalid username or password');
    const cookie = cookieOf(await http().post('/login').send(alice).expect(200));
    await server.pause();
    try {
      const me = await http().get('/me').set('Cookie', cookie);
      expect(me.status).toBe(503);
      expect(me.headers['retry-after']).toBe('1');
      const login = await http().post('/login').send(alice);
      expect(login.status).toBe(503);
      expect(login.headers['set-cookie']).toBeUndefined();
    } finally {
      await server.resume();
    }
    await http().get('/me').set('Cookie', cookie).expect(200);
  });
});

describe('control: connect-redis 8.1 in the same module has the logout-resurrection race', () => {
  it('writes back a session destroyed while a slow request ran (what RedisSessionStore prevents)', async () => {
    const server = await startRedis();
    const prefix = uniquePrefix('sesscr');
    const ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ url: server.url, keyPrefix: prefix }),
        SessionModule.forRoot({ secrets: [SECRET], secure: false, userLookup: MemoryUsers }),
      ],
      controllers: [DemoController],
    })
      .overrideProvider(SESSION_STORE)
      .useFactory({
        inject: [RedisService],
        factory: (redis: RedisService) =>
          new RedisStore({ client: redis.getClient(), prefix: redis.prefixFor('sess') }),
      })
      .compile();
    const app = ref.createNestApplication({ logger: ['error'] });
    await app.init();
    const c = server.client();
    try {
      const http = () => request(app.getHttpServer());
      const cookie = cookieOf(
        await http().post('/login').send({ username: 'alice', password: 'alice-password' }).expect(200),
      );
      const slow = http()
        .get('/slow?ms=600')
        .set('Cookie', cookie)
        .then((r) => r.status);
      await sleep(200);
      await http().post('/logout').set('Cookie', cookie).expect(204);
      expect(await c.exists(`${prefix}sess:${sidOf(cookie)}`)).toBe(0);
      expect(await slow).toBe(200);
      await sleep(50);
      expect(await c.exists(`${prefix}sess:${sidOf(cookie)}`)).toBe(1); // resurrected
      await http().get('/me').set('Cookie', cookie).expect(200); // the logged-out cookie works again
    } finally {
      c.disconnect();
      await app.close();
      await server.stop();
    }
  });
});

describe('SessionModule options', () => {
  it('rejects bad options at startup with RedisConfigError', () => {
    expect(() => resolveSessionOptions({ secrets: [] })).toThrow(RedisConfigError);
    expect(() => resolveSessionOptions({ secrets: ['short'] })).toThrow(/secrets\[0\]/);
    expect(() => resolveSessionOptions({ secrets: [SECRET], ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => resolveSessionOptions({ secrets: [SECRET], cookieName: 'bad name' })).toThrow(/cookieName/);
    expect(() => resolveSessionOptions({ secrets: [SECRET], sameSite: 'none', secure: false })).toThrow(/sameSite/);
    expect(() => SessionModule.forRoot({ secrets: [SECRET] })).toThrow(/userLookup/);
    expect(resolveSessionOptions({ secrets: [SECRET] })).toMatchObject({
      cookieName: 'nrk.sid',
      ttlMs: 86_400_000,
      rolling: true,
      secure: true,
      sameSite: 'lax',
      loginMaxAttempts: 5,
      loginWindowMs: 900_000,
    });
  });
});

/** CRC16 slot of a key (hash tags honoured), as Redis Cluster computes it. */
function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
