/**
 * The reference service's users endpoints and /health, in process (AppModule + configureApp, like main.ts),
 * on a harness Redis and a fresh PostgreSQL database; plus the configuration validation run at startup.
 * Topology-aware (test/support/redis-harness.ts): one redis-server, or a 3-master cluster with REDIS_TOPOLOGY=cluster.
 */
import { validateConfig } from '../../src/app/config/app.config';
import { createTestApp, type TestApp } from '../support/app';
import { startTestRedis, testTopology, type TestRedis } from '../support/redis-harness';

const alice = {
  username: 'alice_1',
  password: 'correct horse battery',
  displayName: 'Alice',
  email: 'alice@example.com',
};

describe(`reference service: users and /health (${testTopology()})`, () => {
  let redis: TestRedis;
  let t: TestApp;
  beforeAll(async () => {
    redis = await startTestRedis();
    t = await createTestApp({ redisEnv: redis.env });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('GET /health answers 200 with the Redis client up', async () => {
    const res = await t.http.get('/health').expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.details.redis.status).toBe('up');
  });

  it('creates the demo user on the first start', async () => {
    const res = await t.http.get('/users/1').expect(200);
    expect(res.body).toMatchObject({ id: 1, username: 'demo', displayName: 'Demo User' });
  });

  it('POST /users → 201 with the public shape, never the hash; GET /users/:id the same', async () => {
    const created = await t.http.post('/users').send(alice).expect(201);
    expect(Object.keys(created.body).sort()).toEqual(['createdAt', 'displayName', 'email', 'id', 'username']);
    expect(created.body).toMatchObject({ username: 'alice_1', displayName: 'Alice', email: 'alice@example.com' });
    expect(new Date(created.body.createdAt).getTime()).not.toBeNaN();
    const got = await t.http.get(`/users/${created.body.id}`).expect(200);
    expect(got.body).toEqual(created.body);
    expect(JSON.stringify(got.body)).not.toMatch(/password|scrypt/i);
  });

  it('POST /users with a taken username → 409', async () => {
    const res = await t.http
      .post('/users')
      .send({ ...alice, email: 'other@example.com' })
      .expect(409);
    expect(res.body.message).toMatch(/alice_1.*taken/);
  });

  it.each([
    ['a short username', { ...alice, username: 'ab' }, /username/],
    ['a bad e-mail', { ...alice, username: 'bob_1', email: 'not-an-email' }, /email/],
    ['a short password', { ...alice, username: 'bob_2', password: 'short' }, /password/],
    ['a missing displayName', { username: 'bob_3', password: 'long enough pw', email: 'b@example.com' }, /displayName/],
    ['an unknown field', { ...alice, username: 'bob_4', isAdmin: true }, /isAdmin should not exist/],
    ['a number as username', { ...alice, username: 12345 }, /username/],
  ])('POST /users with %s → 400 naming the field', async (_label, body, message) => {
    const res = await t.http.post('/users').send(body).expect(400);
    expect(JSON.stringify(res.body.message)).toMatch(message);
  });

  it('POST /users with malformed JSON → 400, not 500', async () => {
    await t.http.post('/users').set('Content-Type', 'application/json').send('{"username":').expect(400);
  });

  it('GET /users/:id → 404 for an unknown id', async () => {
    const res = await t.http.get('/users/424242').expect(404);
    expect(res.body.message).toMatch(/424242/);
  });

  // `1e3`, `0x10`, ` 12`: the global AppValidationPipe leaves route params as strings for ParseIdPipe
  it.each(['abc', '1.5', '-1', '0', '99999999999999', '2147483648', '%20', '1e3', '0x10', '%2012'])(
    'GET /users/%s → 400 with a clear message',
    async (id) => {
      const res = await t.http.get(`/users/${id}`).expect(400);
      expect(res.body.message).toMatch(/id must be an integer between 1 and 2147483647/);
    },
  );

  it('GET /users/2147483647 (largest id) → 404, not a database error', async () => {
    await t.http.get('/users/2147483647').expect(404);
  });

  it('GET /health answers 503 with per-client status when Redis is down', async () => {
    await redis.kill(); // every node of a cluster
    const res = await t.http.get('/health').expect(503);
    expect(res.body.status).toBe('error');
    expect(res.body.details.redis.status).toBe('down');
    expect(res.body.details.redis.clients.default.status).toBe('down');
    await redis.start();
  });
});

// In process: what ConfigModule runs when the app is created (a failed in-process startup would leave the Redis
// clients of modules already built behind). The real process's startup failure is in start.e2e-spec.ts.
describe('reference service: configuration validation', () => {
  const valid = { REDIS_URL: 'redis://127.0.0.1:6379' };

  it('gives typed defaults', () => {
    const config = validateConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      REDIS_KEY_PREFIX: 'nrk:',
      DATA_DIR: './.data',
      NODE_ENV: 'development',
    });
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('parses numbers', () => {
    expect(validateConfig({ ...valid, PORT: '8080' }).PORT).toBe(8080);
  });

  it.each([
    ['PORT', { PORT: 'eighty' }, /PORT/],
    ['PORT', { PORT: '70000' }, /PORT/],
    ['REDIS_URL', { REDIS_URL: 'http://127.0.0.1:6379' }, /REDIS_URL must look like redis:\/\//],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x@y/z' }, /DATABASE_URL must look like postgres/],
    ['REDIS_KEY_PREFIX', { REDIS_KEY_PREFIX: 'a {b}' }, /REDIS_KEY_PREFIX/],
    ['SESSION_SECRET', { SESSION_SECRET: 'short' }, /SESSION_SECRET/],
  ])('a bad %s is refused with a message naming it', (_name, env, message) => {
    expect(() => validateConfig({ ...valid, ...env })).toThrow(message);
  });

  it('lists every problem at once', () => {
    expect(() => validateConfig({ REDIS_URL: 'nope', PORT: '-1' })).toThrow(
      /Invalid configuration:[\s\S]*(PORT[\s\S]*REDIS_URL|REDIS_URL[\s\S]*PORT)/,
    );
  });

  it('refuses the development SESSION_SECRET in production', () => {
    expect(() => validateConfig({ ...valid, NODE_ENV: 'production' })).toThrow(/SESSION_SECRET/);
  });
});
