/**
 * The fault suite's small load script: two reference-service instances on one PostgreSQL database, and a few
 * virtual users that, round-robin over the instances, read cached users, read their session, place orders,
 * reserve stock and search the catalog (behind its rate limit, set high enough never to refuse), at a bounded rate. Every request is recorded (feature, start, end, status) so that a
 * test can compute how long each feature was unavailable while the harness broke Redis.
 */
import request from 'supertest';
import { Client } from 'pg';
import type { Redis } from 'ioredis';
import { bootApp, type BootedApp } from '../support/app-boot';
import { createTestDatabase } from '../support/test-database';
import { uniquePrefix } from '../support/redis-harness';
import { sleep } from '../../src/core/deadline';

/** The features the load exercises (`search`: the rate limit of `GET /catalog/search`, then its cache). */
export type Feature = 'cache' | 'session' | 'orders' | 'locks' | 'search';

/** One request made by the load. */
export interface Sample {
  feature: Feature;
  /** ms since the load started. */
  start: number;
  end: number;
  /** HTTP status; 0 when the request failed at the network level or took longer than 15 s. */
  status: number;
  instance: number;
  /** Order id of a 201 POST /orders. */
  orderId?: number;
  /** Index of the virtual user. */
  user: number;
}

/** Two running instances and the seeded data. */
export interface Fleet {
  apps: BootedApp[];
  urls: string[];
  /** Session cookie per virtual user (logged in at setup). */
  cookies: string[];
  /** Ids of the users whose profiles are read through the cache. */
  userIds: number[];
  /** SKU reserved by the load, with its initial stock. */
  sku: string;
  initialStock: number;
  /** SKU the load's orders are for (kept in the inventory: each order reserves one unit through the inventory service). */
  orderSku: string;
  /** DATABASE_URL of both instances (for checks in the database). */
  databaseUrl: string;
  close(): Promise<void>;
}

export const SESSION_SECRET = 'fault-suite-session-secret-0123456789';

/** Boots two instances with `redisEnv` (REDIS_URL or REDIS_SENTINELS...), seeds users and stock, logs users in. */
export async function startFleet(redisEnv: Record<string, string>, virtualUsers = 3): Promise<Fleet> {
  const db = await createTestDatabase('faults');
  const env = {
    ...redisEnv,
    DATABASE_URL: db.url,
    REDIS_KEY_PREFIX: uniquePrefix('fault'),
    SESSION_SECRET,
    LOG_LEVEL: 'silent',
    // The search's rate limit on, never reached: what the load sees of it is its fail mode.
    SEARCH_RATE_LIMIT_PER_MINUTE: '1000000',
  };
  const apps: BootedApp[] = [];
  try {
    apps.push(await bootApp(env, { listen: true }));
    apps.push(await bootApp(env, { listen: true }));
  } catch (err) {
    for (const a of apps.reverse()) await a.close();
    await db.drop();
    throw err;
  }
  const urls = apps.map((a) => {
    const address = a.app.getHttpServer().address() as { port: number };
    return `http://127.0.0.1:${address.port}`;
  });
  const cookies: string[] = [];
  const userIds: number[] = [];
  for (let i = 0; i < virtualUsers; i++) {
    const username = `load${i}`;
    const password = `load-password-${i}`;
    const created = await request(urls[i % 2])
      .post('/users')
      .send({ username, password, displayName: `Load ${i}`, email: `load${i}@example.com` });
    if (created.status !== 201) throw new Error(`seeding user failed: ${created.status} ${created.text}`);
    userIds.push(created.body.id as number);
    const login = await request(urls[i % 2])
      .post('/auth/login')
      .send({ username, password });
    const set = login.headers['set-cookie'] as unknown as string[] | undefined;
    if (login.status !== 200 || !set) throw new Error(`login failed: ${login.status} ${login.text}`);
    cookies.push(set.map((c) => c.split(';')[0]).join('; '));
  }
  const sku = 'fault-sku';
  const initialStock = 1_000_000;
  const orderSku = 'fault-order';
  for (const kept of [sku, orderSku]) {
    const stock = await request(urls[0]).post('/inventory').send({ sku: kept, stock: initialStock });
    if (stock.status !== 201) throw new Error(`seeding stock failed: ${stock.status} ${stock.text}`);
  }
  return {
    apps,
    urls,
    cookies,
    userIds,
    sku,
    initialStock,
    orderSku,
    databaseUrl: db.url,
    close: async () => {
      for (const a of [...apps].reverse()) await a.close().catch(() => undefined);
      await db.drop();
    },
  };
}

/** Bounded load over a fleet: `virtualUsers` loops, each one request at a time with a pause between. */
export class Load {
  readonly samples: Sample[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private t0 = 0;

  constructor(
    private readonly fleet: Fleet,
    private readonly pauseMs = 20,
  ) {}

  /** ms since start(). */
  now(): number {
    return Date.now() - this.t0;
  }

  start(): void {
    this.running = true;
    this.t0 = Date.now();
    this.loops = this.fleet.cookies.map((_, user) => this.loop(user));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(user: number): Promise<void> {
    const { urls, cookies, userIds, sku, orderSku } = this.fleet;
    let n = 0;
    while (this.running) {
      const instance = n++ % urls.length;
      const base = urls[instance];
      const cookie = cookies[user];
      await this.hit('cache', user, instance, `${base}/users/${userIds[n % userIds.length]}`, 'GET');
      await this.hit('session', user, instance, `${base}/auth/me`, 'GET', cookie);
      await this.hit('orders', user, instance, `${base}/orders`, 'POST', cookie, { sku: orderSku, qty: 1 });
      await this.hit('locks', user, instance, `${base}/inventory/${sku}/reserve`, 'POST', cookie, { qty: 1 });
      await this.hit('search', user, instance, `${base}/catalog/search?category=toys&limit=3`, 'GET');
      await sleep(this.pauseMs);
    }
  }

  private async hit(
    feature: Feature,
    user: number,
    instance: number,
    url: string,
    method: string,
    cookie?: string,
    body?: unknown,
  ): Promise<void> {
    const start = this.now();
    let status = 0;
    let orderId: number | undefined;
    try {
      const res = await fetch(url, {
        method,
        headers: { ...(cookie ? { cookie } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(15_000),
      });
      status = res.status;
      const text = await res.text();
      if (feature === 'orders' && status === 201) orderId = (JSON.parse(text) as { id: number }).id;
    } catch {
      status = 0;
    }
    this.samples.push({ feature, start, end: this.now(), status, instance, user, ...(orderId ? { orderId } : {}) });
  }
}

/** Success per feature: the status a healthy service answers. */
export const OK_STATUS: Record<Feature, number> = { cache: 200, session: 200, orders: 201, locks: 200, search: 200 };

/** Default: anything but the healthy status is a failure. */
const notOk = (s: Sample) => s.status !== OK_STATUS[s.feature];

/**
 * Per feature: the longest time from a failed request's start to the end of the next request that did not
 * fail. `failed` decides what counts as unavailable (default: anything but the healthy status).
 */
export function unavailability(
  samples: Sample[],
  failed: (s: Sample) => boolean = notOk,
): Record<Feature, { windowMs: number; failed: number; total: number; maxLatencyMs: number }> {
  const out = {} as Record<Feature, { windowMs: number; failed: number; total: number; maxLatencyMs: number }>;
  for (const feature of Object.keys(OK_STATUS) as Feature[]) {
    const list = samples.filter((s) => s.feature === feature).sort((a, b) => a.start - b.start);
    let windowMs = 0;
    let firstFailure: number | undefined;
    let failures = 0;
    for (const s of list) {
      if (failed(s)) {
        failures++;
        firstFailure ??= s.start;
      } else if (firstFailure !== undefined) {
        windowMs = Math.max(windowMs, s.end - firstFailure);
        firstFailure = undefined;
      }
    }
    if (firstFailure !== undefined && list.length)
      windowMs = Math.max(windowMs, list[list.length - 1].end - firstFailure);
    out[feature] = {
      windowMs,
      failed: failures,
      total: list.length,
      maxLatencyMs: list.reduce((m, s) => Math.max(m, s.end - s.start), 0),
    };
  }
  return out;
}

/** Statuses seen per feature, e.g. `{ cache: { 200: 510 }, session: { 200: 480, 503: 12 } }`. */
export function statusCounts(samples: Sample[]): Record<string, Record<number, number>> {
  const out: Record<string, Record<number, number>> = {};
  for (const s of samples) {
    out[s.feature] ??= {};
    out[s.feature][s.status] = (out[s.feature][s.status] ?? 0) + 1;
  }
  return out;
}

/** Prints one line per feature; docs/failure-modes.md quotes these figures. */
export function report(title: string, samples: Sample[], failed: (s: Sample) => boolean = notOk): void {
  const u = unavailability(samples, failed);
  const lines = (Object.keys(u) as Feature[]).map(
    (f) =>
      `  ${f.padEnd(8)} unavailable ≤ ${String(u[f].windowMs).padStart(5)} ms   failed ${u[f].failed}/${u[f].total}   slowest ${u[f].maxLatencyMs} ms`,
  );
  process.stdout.write(
    `\n[faults] ${title}\n${lines.join('\n')}\n  statuses ${JSON.stringify(statusCounts(samples))}\n`,
  );
}

/** Polls the orders until each is `confirmed` (or the deadline passes); returns the ones that are not. */
export async function unconfirmedOrders(fleet: Fleet, samples: Sample[], timeoutMs = 20_000): Promise<number[]> {
  const pending = new Map<number, number>(); // orderId -> user
  for (const s of samples) if (s.orderId) pending.set(s.orderId, s.user);
  const deadline = Date.now() + timeoutMs;
  while (pending.size && Date.now() < deadline) {
    for (const [id, user] of [...pending]) {
      const res = await request(fleet.urls[0]).get(`/orders/${id}`).set('Cookie', fleet.cookies[user]);
      if (res.status === 200 && res.body.status === 'confirmed') pending.delete(id);
    }
    if (pending.size) await sleep(250);
  }
  return [...pending.keys()];
}

/** Units reserved by successful POST /inventory/:sku/reserve requests (qty 1 each). */
export function reservedUnits(samples: Sample[]): number {
  return samples.filter((s) => s.feature === 'locks' && s.status === 200).length;
}

/** Environment of a fleet reaching Redis through a Sentinel group (`extra` added, e.g. LOCK_TTL_MS). */
export function sentinelEnv(
  group: { sentinelAddresses: Array<{ host: string; port: number }>; name: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    REDIS_SENTINELS: group.sentinelAddresses.map((a) => `${a.host}:${a.port}`).join(','),
    REDIS_SENTINEL_NAME: group.name,
    ...extra,
  };
}

/**
 * The checks after a failover, in Jest `expect`s: only the `allowed` statuses (default: success, 423 lock busy,
 * 503 Redis unavailable: no 500, no dropped connection); the last second of load all success; every original
 * session still valid.
 */
export async function expectRecovered(
  fleet: Fleet,
  load: Load,
  allowed: (s: Sample) => boolean = (s) => [200, 201, 423, 503].includes(s.status),
): Promise<void> {
  expect(load.samples.filter((s) => !allowed(s))).toEqual([]);
  const end = load.now();
  const tail = load.samples.filter((s) => s.start > end - 1_000);
  expect(tail.length).toBeGreaterThan(0);
  expect(tail.filter((s) => s.status >= 400)).toEqual([]);
  for (const cookie of fleet.cookies) {
    expect((await request(fleet.urls[1]).get('/auth/me').set('Cookie', cookie)).status).toBe(200);
  }
}

/** Lost acknowledged orders: those not confirmed, and how many were accepted in the second before a kill. */
export async function lostOrders(
  fleet: Fleet,
  samples: Sample[],
  killsAtMs: number[],
): Promise<{ lost: number[]; accepted: number; atRisk: number }> {
  const lost = await unconfirmedOrders(fleet, samples, 20_000);
  const accepted = samples.filter((s) => s.orderId).length;
  const atRisk = samples.filter((s) => s.orderId && killsAtMs.some((k) => s.end <= k && s.end > k - 1_000)).length;
  return { lost, accepted, atRisk };
}

/** Waits (up to 30 s, then throws) until `node` is a replica whose link to its master is up, e.g. after a restart. */
export async function waitReplicaSynced(node: { client(): Redis }): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const probe = node.client();
    const info = await probe.info('replication').catch(() => '');
    probe.disconnect();
    if (/role:slave/.test(info) && /master_link_status:up/.test(info)) return;
    await sleep(100);
  }
  throw new Error('the restarted node did not become a synced replica within 30 s');
}

/**
 * The orders' stock is exact (checked in the database, waiting up to `timeoutMs` for the clean-up job to release
 * what failed orders may hold): no order is left `reserving`, every failed order's reservation is released, every
 * accepted order (201) is live (`pending` or `confirmed`), and the order SKU's stock went down by exactly the
 * quantity of the live orders — whatever reserve requests were retried, timed out or lost on the way.
 */
export async function expectOrderStockExact(fleet: Fleet, samples: Sample[], timeoutMs = 40_000): Promise<void> {
  const db = new Client({ connectionString: fleet.databaseUrl });
  await db.connect();
  try {
    const state = async () => {
      const orders = await db.query<{ status: string; released: boolean; n: string; units: string }>(
        `SELECT status, released_at IS NOT NULL AS released, count(*) AS n, coalesce(sum(qty), 0) AS units
         FROM orders WHERE sku = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
        [fleet.orderSku],
      );
      const stock = await db.query<{ stock: number }>('SELECT stock FROM inventory WHERE sku = $1', [fleet.orderSku]);
      const held = await db.query<{ units: string }>(
        `SELECT coalesce(sum(qty), 0) AS units FROM reservations WHERE sku = $1 AND status = 'held'`,
        [fleet.orderSku],
      );
      const count = (f: (r: { status: string; released: boolean }) => boolean, field: 'n' | 'units') =>
        orders.rows.filter(f).reduce((sum, r) => sum + Number(r[field]), 0);
      return {
        reserving: count((r) => r.status === 'reserving', 'n'),
        failedNotReleased: count((r) => r.status === 'failed' && !r.released, 'n'),
        liveUnits: count((r) => r.status === 'pending' || r.status === 'confirmed', 'units'),
        heldUnits: Number(held.rows[0].units),
        taken: fleet.initialStock - Number(stock.rows[0].stock),
        byStatus: orders.rows.map((r) => `${r.status}${r.released ? '+released' : ''}: ${r.n}`).join(', '),
      };
    };
    const deadline = Date.now() + timeoutMs;
    let now = await state();
    while (
      (now.reserving > 0 ||
        now.failedNotReleased > 0 ||
        now.taken !== now.liveUnits ||
        now.heldUnits !== now.liveUnits) &&
      Date.now() < deadline
    ) {
      await sleep(500);
      now = await state();
    }
    process.stdout.write(`  order stock: ${now.taken} taken, ${now.liveUnits} live units (${now.byStatus})\n`);
    expect(now).toMatchObject({ reserving: 0, failedNotReleased: 0, taken: now.liveUnits, heldUnits: now.liveUnits });
    const accepted = samples.flatMap((s) => (s.orderId ? [s.orderId] : []));
    const notLive = await db.query<{ id: number; status: string }>(
      `SELECT id, status FROM orders WHERE id = ANY($1) AND status NOT IN ('pending', 'confirmed')`,
      [accepted],
    );
    expect(notLive.rows).toEqual([]);
  } finally {
    await db.end();
  }
}
