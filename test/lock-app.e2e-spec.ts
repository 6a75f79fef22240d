/**
 * The reference service's inventory: stock reserved by a read-modify-write under the lock `inventory:<sku>`,
 * guarded in the database by the fencing token. 200 concurrent reservations never oversell; a busy lock
 * answers 423 + Retry-After; a stale fencing token is refused; bad input is a 400; Redis down is a 503.
 * Topology-aware (test/support/redis-harness.ts): one redis-server, or a 3-master cluster with REDIS_TOPOLOGY=cluster.
 */
import request from 'supertest';
import { LockService } from '../src';
import { DatabaseService } from '../src/app/database/database.service';
import { bootApp, type BootedApp } from './support/app-boot';
import { createTestDatabase } from './support/test-database';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';

describe(`Inventory under distributed locks (${testTopology()})`, () => {
  let redis: TestRedis;
  let db: { url: string; drop(): Promise<void> };
  let patient: BootedApp;
  let hurried: BootedApp;
  beforeAll(async () => {
    redis = await startTestRedis();
    db = await createTestDatabase('inventory');
    const env = { ...redis.env, REDIS_KEY_PREFIX: uniquePrefix('inv'), DATABASE_URL: db.url };
    patient = await bootApp({ ...env, LOCK_WAIT_MS: '60000', LOCK_TTL_MS: '5000' });
    hurried = await bootApp({ ...env, LOCK_WAIT_MS: '200', LOCK_TTL_MS: '5000' });
  });
  afterAll(async () => {
    await patient?.close();
    await hurried?.close();
    await db?.drop();
    await redis?.stop();
  });

  it('creates, reads and replaces stock', async () => {
    const http = request(patient.app.getHttpServer());
    await http.post('/inventory').send({ sku: 'SKU-1', stock: 5 }).expect(201, { sku: 'SKU-1', stock: 5 });
    await http.get('/inventory/SKU-1').expect(200, { sku: 'SKU-1', stock: 5 });
    await http.post('/inventory').send({ sku: 'SKU-1', stock: 7 }).expect(201, { sku: 'SKU-1', stock: 7 });
    await request(hurried.app.getHttpServer()).get('/inventory/SKU-1').expect(200, { sku: 'SKU-1', stock: 7 });
    await http.get('/inventory/NOPE').expect(404);
    await http.post('/inventory/SKU-1/reserve').send({ qty: 3 }).expect(200, { sku: 'SKU-1', stock: 4 });
    const short = await http.post('/inventory/SKU-1/reserve').send({ qty: 5 }).expect(409);
    expect(short.body.message).toMatch(/insufficient stock for SKU-1: 4 available, 5 requested/);
    await http.post('/inventory/NOPE/reserve').send({ qty: 1 }).expect(404);
  });

  it('answers 400 on bad input', async () => {
    const http = request(patient.app.getHttpServer());
    for (const body of [
      { sku: 'bad sku!', stock: 1 },
      { sku: '', stock: 1 },
      { sku: 'x'.repeat(65), stock: 1 },
      { sku: 'A', stock: -1 },
      { sku: 'A', stock: 1.5 },
      { sku: 'A', stock: '3' },
      { sku: 'A', stock: 2e9 },
      { sku: 'A' },
      { sku: 'A', stock: 1, extra: true },
    ]) {
      await http.post('/inventory').send(body).expect(400);
    }
    for (const body of [{ qty: 0 }, { qty: -2 }, { qty: 1.5 }, { qty: 'x' }, {}, { qty: 2_000_000 }]) {
      await http.post('/inventory/SKU-1/reserve').send(body).expect(400);
    }
    await http.post('/inventory/bad%20sku/reserve').send({ qty: 1 }).expect(400);
    await http.get('/inventory/bad%20sku').expect(400);
  });

  it('200 concurrent reservations never oversell', async () => {
    const http = request(patient.app.getHttpServer());
    await http.post('/inventory').send({ sku: 'HOT', stock: 150 }).expect(201);
    const codes = await Promise.all(
      Array.from({ length: 200 }, () =>
        request(patient.app.getHttpServer())
          .post('/inventory/HOT/reserve')
          .send({ qty: 1 })
          .then((r) => r.status),
      ),
    );
    expect(codes.filter((c) => c === 200)).toHaveLength(150);
    expect(codes.filter((c) => c === 409)).toHaveLength(50);
    await http.get('/inventory/HOT').expect(200, { sku: 'HOT', stock: 0 });
  });

  it('a busy lock answers 423 with Retry-After', async () => {
    const http = request(hurried.app.getHttpServer());
    await http.post('/inventory').send({ sku: 'HELD', stock: 3 }).expect(201);
    const held = await patient.app.get(LockService).acquire('inventory:HELD', { ttlMs: 4_000 });
    try {
      const res = await http.post('/inventory/HELD/reserve').send({ qty: 1 }).expect(423);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(3);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(4);
      expect(res.body.message).toMatch(/locked/);
    } finally {
      await held.release();
    }
    await http.post('/inventory/HELD/reserve').send({ qty: 1 }).expect(200, { sku: 'HELD', stock: 2 });
  });

  it("refuses a stale holder's write by its fencing token", async () => {
    const http = request(patient.app.getHttpServer());
    await http.post('/inventory').send({ sku: 'FENCED', stock: 10 }).expect(201);
    // A newer holder already wrote with a higher token than the next one Redis will hand out.
    await patient.app.get(DatabaseService).query(`UPDATE inventory SET fence = 1000000 WHERE sku = 'FENCED'`);
    const res = await http.post('/inventory/FENCED/reserve').send({ qty: 1 }).expect(409);
    expect(res.body.message).toMatch(/stale fencing token/);
    await http.get('/inventory/FENCED').expect(200, { sku: 'FENCED', stock: 10 });
    // The refusal raised Redis's counter past the stored token (e.g. after Redis restarted empty): the next works.
    await http.post('/inventory/FENCED/reserve').send({ qty: 1 }).expect(200, { sku: 'FENCED', stock: 9 });
  });
});

describe(`Inventory with Redis down (${testTopology()})`, () => {
  it('answers 503, never a reservation without a lock', async () => {
    const redis = await startTestRedis();
    const app = await bootApp({ ...redis.env, REDIS_KEY_PREFIX: uniquePrefix('invdown') });
    try {
      const http = request(app.app.getHttpServer());
      await http.post('/inventory').send({ sku: 'D1', stock: 5 }).expect(201);
      await redis.kill(); // every node of a cluster
      const t0 = Date.now();
      await http.post('/inventory/D1/reserve').send({ qty: 1 }).expect(503);
      expect(Date.now() - t0).toBeLessThan(3_000);
      const stock = await app.app
        .get(DatabaseService)
        .query<{ stock: number }>(`SELECT stock FROM inventory WHERE sku = 'D1'`);
      expect(Number(stock.rows[0].stock)).toBe(5);
    } finally {
      await app.close();
      await redis.stop();
    }
  });
});
