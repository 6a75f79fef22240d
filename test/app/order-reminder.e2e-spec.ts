/**
 * The reference service's order reminder: `order.created` schedules a delayed `order.reminder` (REMINDER_DELAY_MS
 * later), and once due the notifications service records an `order.reminder` notification for the order, once,
 * and sets the order's `remindedAt` (GET /orders/:id).
 * Topology-aware (test/support/redis-harness.ts).
 */
import { sleep, StreamProducer } from '../../src';
import { DatabaseService } from '../../src/app/database/database.service';
import { ORDER_REMINDERS_STREAM } from '../../src/app/notifications/order-reminder.consumer';
import { createTestApp, type TestApp } from '../support/app';
import { startTestRedis, testTopology, type TestRedis } from '../support/redis-harness';

describe(`reference service: order reminders (${testTopology()})`, () => {
  let redis: TestRedis;
  let t: TestApp;
  beforeAll(async () => {
    redis = await startTestRedis();
    t = await createTestApp({ redisEnv: redis.env, env: { REMINDER_DELAY_MS: '1500' } });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('an order gets its `order.reminder` notification REMINDER_DELAY_MS after it was created, not before', async () => {
    const login = await t.http.post('/auth/login').send({ username: 'demo', password: 'demo-password' }).expect(200);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    const created = await t.http.post('/orders').set('Cookie', cookie).send({ sku: 'REM-1', qty: 1 }).expect(201);
    const createdAt = Date.now();
    expect(created.body.remindedAt).toBeNull();
    const orderId = created.body.id as number;
    const db = t.app.get(DatabaseService);
    const reminders = async () =>
      (
        await db.query<{ message: string; user_id: number | null }>(
          `SELECT message, user_id FROM notifications WHERE order_id = $1 AND kind = 'order.reminder'`,
          [orderId],
        )
      ).rows;

    await sleep(300);
    let rows = await reminders();
    if (Date.now() - createdAt < 1_400) expect(rows).toEqual([]); // not before it is due
    const deadline = Date.now() + 20_000;
    while (rows.length === 0 && Date.now() < deadline) {
      await sleep(100);
      rows = await reminders();
    }
    expect(Date.now() - createdAt).toBeGreaterThanOrEqual(1_400); // scheduled after the order was stored
    expect(rows).toHaveLength(1);
    expect(rows[0].user_id).toBe(created.body.userId);
    expect(rows[0].message).toMatch(/order/i);
    // The order's status shows it: `remindedAt` in GET /orders/:id, set once, not before it was due.
    const shown = await t.http.get(`/orders/${orderId}`).set('Cookie', cookie).expect(200);
    expect(['pending', 'confirmed']).toContain(shown.body.status);
    expect(typeof shown.body.remindedAt).toBe('string');
    const remindedAfterMs = Date.parse(shown.body.remindedAt as string) - Date.parse(shown.body.createdAt as string);
    expect(remindedAfterMs).toBeGreaterThanOrEqual(1_400);
    expect(await t.app.get(StreamProducer).delayedCount(ORDER_REMINDERS_STREAM)).toBe(0);
  }, 60_000);
});
