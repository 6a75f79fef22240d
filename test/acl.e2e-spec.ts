/**
 * The whole reference service on a Redis ACL user that may touch only `<prefix>*` keys and `<prefix>*`
 * channels, and only the command categories the library needs: every feature's routes work, and
 * Redis's ACL LOG stays empty, which proves the library never reaches outside its own keys.
 */
import request from 'supertest';
import type { Redis } from 'ioredis';
import { LIBRARY_ACL_COMMANDS, startRedis, type RedisServer } from './support/redis-harness';
import { bootApp, type BootedApp } from './support/app-boot';
import { sleep } from '../src/core/deadline';

const PREFIX = 'kit:';
const USER = 'kit';
const PASSWORD = 'kit-acl-password-0123';

/** The ACL rule documented in docs/security.md: keys and channels under the prefix, no dangerous commands. */
export const ACL_RULE = [
  'reset',
  'on',
  `>${PASSWORD}`,
  `~${PREFIX}*`,
  `&${PREFIX}*`,
  // Redis compares PSUBSCRIBE patterns literally with the allowed ones: the SSE route's pattern is listed as is.
  `&${PREFIX}msg:order.*`,
  ...LIBRARY_ACL_COMMANDS,
];

type Http = Parameters<typeof request>[0];

/** True when the route does not exist (yet) in this build of the app: Nest's "Cannot METHOD /path". */
function missingRoute(res: request.Response): boolean {
  return res.status === 404 && /^Cannot (GET|POST|PUT|PATCH|DELETE)/.test(String(res.body?.message ?? ''));
}

/** Opens GET /events, runs `trigger`, returns the first event text (or `missing` when the route does not exist). */
async function liveOrderEvent(
  booted: BootedApp,
  cookie: string[],
  trigger: () => PromiseLike<unknown>,
): Promise<string> {
  const server = booted.app.getHttpServer() as { address(): { port: number } | string | null; listening: boolean };
  if (!server.listening) await booted.app.listen(0, '127.0.0.1');
  const address = server.address() as { port: number };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 5_000);
  try {
    const res = await fetch(`http://127.0.0.1:${address.port}/events`, {
      headers: { cookie: cookie.map((c) => c.split(';')[0]).join('; ') },
      signal: abort.signal,
    });
    if (res.status === 404) return 'missing';
    if (res.status !== 200 || !res.body) return `status ${res.status}: ${await res.text()}`;
    const reader = res.body.getReader();
    let text = '';
    while (!/event: ready/.test(text)) {
      // the subscription is live once the stream says `ready`
      const { value, done } = await reader.read();
      if (done) return `ended before ready: ${text}`;
      text += new TextDecoder().decode(value);
    }
    await trigger();
    while (!/order\.created/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    return text;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

describe('ACL: the reference service on a Redis user restricted to its key prefix', () => {
  let server: RedisServer;
  let admin: Redis;
  let booted: BootedApp;
  let http: Http;
  beforeAll(async () => {
    server = await startRedis();
    admin = server.client();
    await admin.call('ACL', 'SETUSER', USER, ...ACL_RULE);
    // Keys of "another application" on the same server: the service must neither read nor change them.
    await admin.set('other:secret', 'untouched');
    booted = await bootApp({
      REDIS_URL: `redis://${USER}:${PASSWORD}@127.0.0.1:${server.port}`,
      REDIS_KEY_PREFIX: PREFIX,
    });
    http = booted.app.getHttpServer();
  });
  afterAll(async () => {
    await booted?.close();
    admin?.disconnect();
    await server?.stop();
  });

  it('the ACL user really is restricted (sanity check of the rule)', async () => {
    const kit = server.client({ username: USER, password: PASSWORD, connectionName: 'acl-sanity' });
    try {
      await expect(kit.get('other:secret')).rejects.toThrow(/NOPERM/);
      await expect(kit.call('KEYS', '*')).rejects.toThrow(/NOPERM/);
      await expect(kit.call('FLUSHALL')).rejects.toThrow(/NOPERM/);
      await expect(kit.publish('other:channel', 'x')).rejects.toThrow(/NOPERM/);
      expect(await kit.set(`${PREFIX}sanity`, '1')).toBe('OK');
      await kit.del(`${PREFIX}sanity`);
    } finally {
      kit.disconnect();
    }
  });

  it('health is up', async () => {
    const res = await request(http).get('/health');
    expect(res.status).toBe(200);
  });

  it('users: create, cached reads (MISS then HIT), update evicts the cached copy, 404', async () => {
    const created = await request(http)
      .post('/users')
      .send({ username: 'acl-user', password: 'acl-password-1', displayName: 'Acl', email: 'acl@example.com' });
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    const first = await request(http).get(`/users/${id}`);
    expect(first.status).toBe(200);
    const second = await request(http).get(`/users/${id}`);
    expect(second.status).toBe(200);
    if (second.headers['x-cache']) expect(second.headers['x-cache']).toBe('HIT');
    const patched = await request(http).patch(`/users/${id}`).send({ displayName: 'Acl 2' });
    if (!missingRoute(patched)) {
      expect(patched.status).toBe(200);
      expect((await request(http).get(`/users/${id}`)).body.displayName).toBe('Acl 2');
    }
    expect((await request(http).get('/users/999999')).status).toBe(404);
  });

  it('sessions, orders and stock reservations work for a logged-in user; logout ends the session', async () => {
    const login = await request(http).post('/auth/login').send({ username: 'demo', password: 'demo-password' });
    if (missingRoute(login)) return;
    expect(login.status).toBe(200);
    const cookie = login.headers['set-cookie'] as unknown as string[];
    expect(cookie?.length).toBeGreaterThan(0);
    const me = await request(http).get('/auth/me').set('Cookie', cookie);
    expect(me.status).toBe(200);
    expect(me.body.username).toBe('demo');
    const sessions = await request(http).get('/auth/sessions').set('Cookie', cookie);
    if (!missingRoute(sessions)) expect(sessions.status).toBe(200);

    const order = await request(http).post('/orders').set('Cookie', cookie).send({ sku: 'acl-sku', qty: 1 });
    if (!missingRoute(order)) {
      expect(order.status).toBe(201);
      // The order is confirmed asynchronously through a stream consumer (also restricted by the ACL).
      let status = order.body.status as string;
      for (let i = 0; i < 50 && status === 'pending'; i++) {
        await sleep(100);
        status = (await request(http).get(`/orders/${order.body.id}`).set('Cookie', cookie)).body.status;
      }
      expect(status).toBe('confirmed');
    }

    for (const path of ['/inventory/acl-sku/reserve', '/inventory/reserve']) {
      const reserve = await request(http).post(path).set('Cookie', cookie).send({ sku: 'acl-sku', qty: 1 });
      if (missingRoute(reserve)) continue;
      expect(reserve.status).toBeLessThan(500);
    }

    // Live order events (SSE over a pub/sub pattern subscription: PSUBSCRIBE <prefix>msg:order.*).
    const sse = await liveOrderEvent(booted, cookie, () =>
      request(http).post('/orders').set('Cookie', cookie).send({ sku: 'acl-sse', qty: 1 }),
    );
    if (sse !== 'missing') expect(sse).toMatch(/order\.created/);

    expect((await request(http).post('/auth/logout').set('Cookie', cookie)).status).toBe(204);
    expect((await request(http).get('/auth/me').set('Cookie', cookie)).status).toBe(401);
  });

  it('Redis logged no ACL denial: no key, channel or command outside the rule was attempted', async () => {
    await sleep(300); // let background consumers run a few rounds
    const log = (await admin.call('ACL', 'LOG')) as unknown[];
    const entries = log.map((e) => {
      const flat = e as unknown[];
      const obj: Record<string, unknown> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) obj[String(flat[i])] = flat[i + 1];
      return { text: `${String(obj.reason)} ${String(obj.object)}`, client: String(obj['client-info']) };
    });
    // Only the sanity check's deliberate attempts were denied.
    expect(entries.filter((e) => !e.client.includes('name=acl-sanity')).map((e) => `${e.text} by ${e.client}`)).toEqual(
      [],
    );
    expect(entries.length).toBeGreaterThan(0);
    expect(await admin.get('other:secret')).toBe('untouched');
    const foreign = (await admin.keys('*')).filter((k) => !k.startsWith(PREFIX) && k !== 'other:secret');
    expect(foreign).toEqual([]);
  });
});
