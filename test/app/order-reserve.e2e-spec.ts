/**
 * The reference service's reserve protocol across services: the API asks the inventory service (through the
 * transport) to reserve an order's stock by order id. The inventory records one outcome per order, so a repeated
 * or duplicated request never takes stock twice; a release gives held units back once, and a release that comes
 * before any reserve stops a late reserve request. An order whose reservation did not complete is `failed`, and
 * the clean-up job releases it by order id: the stock counter stays exact. Topology-aware
 * (test/support/redis-harness.ts).
 */
import request from 'supertest';
import { sleep } from '../../src';
import { DatabaseService } from '../../src/app/database/database.service';
import { ORDER_EXPIRY_EVERY_MS } from '../../src/app/orders/order-expiry.job';
import { InventoryClient } from '../../src/app/orders/inventory.client';
import { bootApp, type BootedApp } from '../support/app-boot';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from '../support/redis-harness';
import { eventually } from '../messaging/messaging-test.helpers';

async function login(app: BootedApp): Promise<string> {
  const res = await request(app.app.getHttpServer())
    .post('/auth/login')
    .send({ username: 'demo', password: 'demo-password' })
    .expect(200);
  return (res.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
}

async function stockOf(app: BootedApp, sku: string): Promise<number> {
  const res = await request(app.app.getHttpServer()).get(`/inventory/${sku}`).expect(200);
  return res.body.stock as number;
}

describe(`reference service: reserving an order's stock through the inventory service (${testTopology()})`, () => {
  let redis: TestRedis;
  let database: TestDatabase;
  let env: Record<string, string>;
  let app: BootedApp;
  beforeAll(async () => {
    redis = await startTestRedis();
    database = await createTestDatabase('reserve');
    env = { ...redis.env, REDIS_KEY_PREFIX: uniquePrefix('reserve'), DATABASE_URL: database.url };
    app = await bootApp(env);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await database?.drop();
    await redis?.stop();
  });

  it('reserve is idempotent by order id: repeated and concurrent requests take the stock once; release gives it back once', async () => {
    const http = app.app.getHttpServer();
    await request(http).post('/inventory').send({ sku: 'IDEM-1', stock: 10 }).expect(201);
    const inventory = app.app.get(InventoryClient);
    const order = { orderId: 900_001, sku: 'IDEM-1', qty: 3 };
    const replies = await Promise.all([1, 2, 3, 4].map(() => inventory.reserve(order)));
    expect(replies.map((r) => r.status)).toEqual(['held', 'held', 'held', 'held']);
    expect((await inventory.reserve(order)).status).toBe('held');
    expect(await stockOf(app, 'IDEM-1')).toBe(7);

    const releases = await Promise.all([1, 2, 3].map(() => inventory.release(order)));
    expect(releases.map((r) => r.returnedUnits).sort()).toEqual([0, 0, 3]);
    expect(await stockOf(app, 'IDEM-1')).toBe(10);
    // After its release the order's reservation stays released: a late request takes nothing.
    expect((await inventory.reserve(order)).status).toBe('released');
    expect(await stockOf(app, 'IDEM-1')).toBe(10);

    // A release before any reserve (the order failed while its request was on its way) stops the late request.
    const early = { orderId: 900_002, sku: 'IDEM-1', qty: 2 };
    expect((await inventory.release(early)).returnedUnits).toBe(0);
    expect((await inventory.reserve(early)).status).toBe('released');
    expect(await stockOf(app, 'IDEM-1')).toBe(10);

    // Short of stock: refused, recorded (a retry gets the same answer, even once stock is there).
    const big = { orderId: 900_003, sku: 'IDEM-1', qty: 11 };
    expect(await inventory.reserve(big)).toMatchObject({ status: 'refused', available: 10 });
    expect((await inventory.reserve(big)).status).toBe('refused');
    // Not kept in the inventory: nothing to take.
    expect((await inventory.reserve({ orderId: 900_004, sku: 'NOT.KEPT', qty: 1 })).status).toBe('untracked');
    expect(await stockOf(app, 'IDEM-1')).toBe(10);
  });

  it('POST /orders: 201 reserves once, 409 short of stock leaves a failed order that took nothing', async () => {
    const http = app.app.getHttpServer();
    const cookie = await login(app);
    await request(http).post('/inventory').send({ sku: 'ORD-1', stock: 5 }).expect(201);
    const created = await request(http)
      .post('/orders')
      .set('Cookie', cookie)
      .send({ sku: 'ORD-1', qty: 2 })
      .expect(201);
    expect(created.body).toMatchObject({ status: 'pending', sku: 'ORD-1', qty: 2, remindedAt: null });
    expect(await stockOf(app, 'ORD-1')).toBe(3);
    const short = await request(http).post('/orders').set('Cookie', cookie).send({ sku: 'ORD-1', qty: 4 }).expect(409);
    expect(short.body.message).toMatch(/insufficient stock for ORD-1: 3 available, 4 requested/);
    const db = app.app.get(DatabaseService);
    const failed = await db.query<{ id: number; released_at: Date | null }>(
      `SELECT id, released_at FROM orders WHERE sku = 'ORD-1' AND status = 'failed'`,
    );
    expect(failed.rows).toHaveLength(1);
    expect(failed.rows[0].released_at).not.toBeNull(); // the inventory recorded that it took nothing
    expect(await stockOf(app, 'ORD-1')).toBe(3);
  });

  it('an order left `reserving` by a dead API instance is failed by the clean-up job, and its held stock comes back', async () => {
    const http = app.app.getHttpServer();
    await request(http).post('/inventory').send({ sku: 'ABANDONED-1', stock: 4 }).expect(201);
    const db = app.app.get(DatabaseService);
    // What an instance that died right after the inventory's answer leaves: a `reserving` order with held stock.
    const row = await db.query<{ id: number }>(
      `INSERT INTO orders (user_id, sku, qty, status, created_at, updated_at)
       VALUES (NULL, 'ABANDONED-1', 3, 'reserving', now() - interval '1 hour', now() - interval '1 hour') RETURNING id`,
    );
    const id = row.rows[0].id;
    const inventory = app.app.get(InventoryClient);
    expect((await inventory.reserve({ orderId: id, sku: 'ABANDONED-1', qty: 3 })).status).toBe('held');
    expect(await stockOf(app, 'ABANDONED-1')).toBe(1);
    await eventually(
      async () => {
        const r = await db.query<{ status: string; released_at: Date | null }>(
          'SELECT status, released_at FROM orders WHERE id = $1',
          [id],
        );
        return r.rows[0].status === 'failed' && r.rows[0].released_at !== null;
      },
      3 * ORDER_EXPIRY_EVERY_MS + 5_000,
      `order ${id} failed and released`,
    );
    expect(await stockOf(app, 'ABANDONED-1')).toBe(4);
    await sleep(ORDER_EXPIRY_EVERY_MS + 500); // another tick: released once
    expect(await stockOf(app, 'ABANDONED-1')).toBe(4);
  }, 60_000);

  it('no inventory service running: POST /orders answers 503 in bounded time; once one runs the failed order is released and a late request takes nothing', async () => {
    // A second API instance on the same database and Redis, without the inventory service; this suite's first
    // instance is closed meanwhile, so nobody answers `inventory.reserve`.
    await app.close();
    const apiOnly = await bootApp({ ...env, INVENTORY_SERVER: 'false' });
    let id: number;
    try {
      const http = apiOnly.app.getHttpServer();
      await request(http).post('/inventory').send({ sku: 'NOBODY-1', stock: 3 }).expect(201);
      const cookie = await login(apiOnly);
      const started = Date.now();
      const res = await request(http).post('/orders').set('Cookie', cookie).send({ sku: 'NOBODY-1', qty: 1 });
      expect(res.status).toBe(503);
      expect(res.body.message).toMatch(/inventory service did not answer/);
      expect(Date.now() - started).toBeLessThan(5_000); // ORDER_RESERVE_TIMEOUT_MS 1 s + one retry of 0.5 s
      const db = apiOnly.app.get(DatabaseService);
      const r = await db.query<{ id: number; status: string }>(`SELECT id, status FROM orders WHERE sku = 'NOBODY-1'`);
      expect(r.rows.map((o) => o.status)).toEqual(['failed']);
      id = r.rows[0].id;
    } finally {
      await apiOnly.close();
    }
    // The inventory service back (an instance hosting it): the clean-up releases the failed order by id, and the
    // requests the API had sent, read only now (if ever), take nothing.
    app = await bootApp(env);
    const db = app.app.get(DatabaseService);
    await eventually(
      async () =>
        (await db.query<{ released_at: Date | null }>('SELECT released_at FROM orders WHERE id = $1', [id])).rows[0]
          .released_at !== null,
      3 * ORDER_EXPIRY_EVERY_MS + 5_000,
      `order ${id} released`,
    );
    const inventory = app.app.get(InventoryClient);
    expect((await inventory.reserve({ orderId: id, sku: 'NOBODY-1', qty: 1 })).status).toBe('released');
    expect(await stockOf(app, 'NOBODY-1')).toBe(3);
  }, 90_000);
});
