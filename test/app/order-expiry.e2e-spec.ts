/**
 * The reference service's scheduled clean-up: an order left `pending` (no consumer confirms it here) longer than
 * ORDER_PENDING_TTL_MS becomes `expired`, visible in GET /orders/:id, through the `@Scheduled` job claimed in Redis,
 * and gives back the stock it reserved (only what it reserved); its counters are on /metrics. Topology-aware (test/support/redis-harness.ts).
 */
import { sleep } from '../../src';
import { ORDER_EXPIRY_EVERY_MS } from '../../src/app/orders/order-expiry.job';
import { createTestApp, type TestApp } from '../support/app';
import { startTestRedis, testTopology, type TestRedis } from '../support/redis-harness';

describe(`reference service: pending orders expire (${testTopology()})`, () => {
  let redis: TestRedis;
  let t: TestApp;
  beforeAll(async () => {
    redis = await startTestRedis();
    t = await createTestApp({
      redisEnv: redis.env,
      env: { ORDER_PENDING_TTL_MS: '1000', MESSAGING_CONSUMERS: 'false' },
    });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('an order pending longer than ORDER_PENDING_TTL_MS is `expired` after the next clean-up tick', async () => {
    const login = await t.http.post('/auth/login').send({ username: 'demo', password: 'demo-password' }).expect(200);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    const created = await t.http.post('/orders').set('Cookie', cookie).send({ sku: 'EXP-1', qty: 1 }).expect(201);
    expect(created.body.status).toBe('pending');

    const deadline = Date.now() + 20_000; // TTL 1 s + one 5 s period, with room for a loaded machine
    let status = 'pending';
    while (status === 'pending' && Date.now() < deadline) {
      await sleep(250);
      const res = await t.http
        .get(`/orders/${created.body.id as number}`)
        .set('Cookie', cookie)
        .expect(200);
      status = res.body.status as string;
    }
    expect(status).toBe('expired');

    const metrics = await t.http.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/schedule_runs_total [1-9]/);
    expect(metrics.text).toMatch(/schedule_last_run_timestamp_seconds\{job="orders.expire-pending"\} \d/);
  }, 60_000);

  it('an expired order gives back the stock it reserved, once; an order of an untracked SKU restocks nothing', async () => {
    const login = await t.http.post('/auth/login').send({ username: 'demo', password: 'demo-password' }).expect(200);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    await t.http.post('/inventory').send({ sku: 'EXP-STOCK', stock: 5 }).expect(201);
    const reserved = await t.http.post('/orders').set('Cookie', cookie).send({ sku: 'EXP-STOCK', qty: 2 }).expect(201);
    await t.http.get('/inventory/EXP-STOCK').expect(200, { sku: 'EXP-STOCK', stock: 3 });
    // Ordered before the SKU was tracked: nothing was reserved, so nothing may come back.
    const untracked = await t.http.post('/orders').set('Cookie', cookie).send({ sku: 'EXP-LATE', qty: 4 }).expect(201);
    await t.http.post('/inventory').send({ sku: 'EXP-LATE', stock: 1 }).expect(201);

    const deadline = Date.now() + 20_000;
    const statuses = async () =>
      Promise.all(
        [reserved, untracked].map(
          async (o) =>
            (
              await t.http
                .get(`/orders/${o.body.id as number}`)
                .set('Cookie', cookie)
                .expect(200)
            ).body.status as string,
        ),
      );
    let now = await statuses();
    while (now.some((s) => s === 'pending') && Date.now() < deadline) {
      await sleep(250);
      now = await statuses();
    }
    expect(now).toEqual(['expired', 'expired']);
    await sleep(ORDER_EXPIRY_EVERY_MS + 500); // one more tick: an expired order is not restocked twice
    await t.http.get('/inventory/EXP-STOCK').expect(200, { sku: 'EXP-STOCK', stock: 5 });
    await t.http.get('/inventory/EXP-LATE').expect(200, { sku: 'EXP-LATE', stock: 1 });
  }, 60_000);
});
