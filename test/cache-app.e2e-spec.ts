/**
 * The reference service's cached `GET /users/:id`: X-Cache, eviction on PATCH/DELETE, negative caching,
 * a stampede across two service instances, near-cache coherence, and Redis killed mid-test.
 * Two instances share one PostgreSQL database (created for this suite) and one Redis: a redis-server, or a 3-master
 * cluster with REDIS_TOPOLOGY=cluster (topology-aware, test/support/redis-harness.ts).
 */
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { CacheService } from '../src';
import { AppModule } from '../src/app/app.module';
import { configureApp } from '../src/app/app.setup';
import { DatabaseService } from '../src/app/database/database.service';
import { UsersService } from '../src/app/users/users.service';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { sleep } from '../src/core/deadline';

interface Instance {
  app: INestApplication;
  http: ReturnType<INestApplication['getHttpServer']>;
  dbCalls: () => number;
}

describe(`Reference service: cached users (${testTopology()})`, () => {
  let redis: TestRedis;
  let database: TestDatabase;
  const dataDir = mkdtempSync(join(tmpdir(), 'nrk-cache-app-'));
  let a: Instance;
  let b: Instance;
  const saved = { ...process.env };

  async function boot(): Promise<Instance> {
    const ref = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = ref.createNestApplication({ logger: false });
    configureApp(app);
    await app.init();
    const users = app.get(UsersService, { strict: false });
    const spy = jest.spyOn(users, 'findById');
    return { app, http: app.getHttpServer(), dbCalls: () => spy.mock.calls.length };
  }

  async function newUser(name: string): Promise<number> {
    const db = a.app.get(DatabaseService, { strict: false });
    const r = await db.query<{ id: number }>(
      `INSERT INTO users (username, display_name, email, password_hash) VALUES ($1, $2, $3, 'x') RETURNING id`,
      [`${name}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`, name, `${name}@example.com`],
    );
    return r.rows[0].id;
  }

  beforeAll(async () => {
    redis = await startTestRedis();
    database = await createTestDatabase('cache');
    Object.assign(process.env, {
      NODE_ENV: 'test',
      ...redis.env, // REDIS_URL or REDIS_CLUSTER_NODES
      REDIS_KEY_PREFIX: uniquePrefix('capp'),
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      CACHE_TTL_MS: '30000',
      CACHE_NEAR_MAX_ENTRIES: '1000',
    });
    a = await boot();
    b = await boot();
  });

  afterAll(async () => {
    await a?.app.close();
    await b?.app.close();
    process.env = saved;
    await redis?.stop();
    await database?.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('GET /users/:id: MISS then HIT, one database query', async () => {
    const id = await newUser('hit');
    const before = a.dbCalls();
    const first = await request(a.http).get(`/users/${id}`).expect(200);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(first.body).toMatchObject({ id, displayName: 'hit' });
    const second = await request(a.http).get(`/users/${id}`).expect(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toEqual(first.body);
    expect(a.dbCalls() - before).toBe(1);
  });

  it('404 is cached too (negative caching): the database is asked once', async () => {
    const before = a.dbCalls();
    await request(a.http).get('/users/2000000000').expect(404);
    const again = await request(a.http).get('/users/2000000000').expect(404);
    expect(again.headers['x-cache']).toBe('HIT');
    expect(a.dbCalls() - before).toBe(1);
  });

  it('PATCH evicts (validated body); the other instance sees the change on its next read', async () => {
    const id = await newUser('patch');
    await request(a.http).get(`/users/${id}`).expect(200);
    await request(b.http).get(`/users/${id}`).expect(200); // B now holds it in its near cache
    await request(a.http).patch(`/users/${id}`).send({ email: 'not-an-email' }).expect(400);
    await request(a.http).patch(`/users/${id}`).send({}).expect(400);
    await request(a.http).patch(`/users/${id}`).send({ nope: 1 }).expect(400);
    await request(a.http).patch('/users/2000000001').send({ displayName: 'x' }).expect(404);
    const patched = await request(a.http).patch(`/users/${id}`).send({ displayName: 'Patched' }).expect(200);
    expect(patched.body.displayName).toBe('Patched');
    const deadline = Date.now() + 2_000;
    let seen = '';
    while (Date.now() < deadline) {
      seen = (await request(b.http).get(`/users/${id}`).expect(200)).body.displayName;
      if (seen === 'Patched') break;
      await sleep(20);
    }
    expect(seen).toBe('Patched');
  });

  it('DELETE answers 204 and evicts; the next GET is a (cached) 404', async () => {
    const id = await newUser('del');
    await request(a.http).get(`/users/${id}`).expect(200);
    await request(a.http).delete(`/users/${id}`).expect(204);
    const gone = await request(a.http).get(`/users/${id}`).expect(404);
    expect(gone.headers['x-cache']).toBe('MISS');
    await request(a.http).delete(`/users/${id}`).expect(404);
  });

  it('stampede: 100 concurrent GETs of a cold key across two instances query the database at most twice', async () => {
    const id = await newUser('stampede');
    const before = a.dbCalls() + b.dbCalls();
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => request(i % 2 ? a.http : b.http).get(`/users/${id}`)),
    );
    expect(responses.every((r) => r.status === 200 && r.body.id === id)).toBe(true);
    expect(a.dbCalls() + b.dbCalls() - before).toBeLessThanOrEqual(2);
  });

  it('Redis killed mid-test: 200 from the database, then the cache recovers after a restart', async () => {
    const id = await newUser('outage');
    const cache = a.app.get(CacheService, { strict: false });
    await redis.kill(); // every node of a cluster
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) {
      const r = await request(a.http).get(`/users/${id}`);
      expect(r.status).toBe(200);
      expect(r.body.id).toBe(id);
      expect(r.headers['x-cache']).toBe('MISS');
    }
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(cache.stats.outages).toBe(1);
    await redis.start();
    const deadline = Date.now() + 15_000;
    let status = '';
    while (Date.now() < deadline) {
      status = (await request(a.http).get(`/users/${id}`).expect(200)).headers['x-cache'];
      if (status === 'HIT') break;
      await sleep(100);
    }
    expect(status).toBe('HIT');
    const probe = redis.client();
    expect(await probe.exists(`${process.env.REDIS_KEY_PREFIX}cache:user:${id}`)).toBe(1);
    probe.disconnect();
  });
});
