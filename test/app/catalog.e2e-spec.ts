/**
 * The reference service's cached catalog search (`GET /catalog/search`) and the write that invalidates it
 * (`PATCH /catalog/products/:id`), in process (AppModule + configureApp, like main.ts) on a harness Redis and a fresh
 * database seeded with a small catalog: cached answers equal uncached ones, one database query per search per TTL,
 * writes invalidate by tag, bad input is a 400, and with Redis down the database answers.
 * Topology-aware (test/support/redis-harness.ts): one redis-server, or a 3-master cluster with REDIS_TOPOLOGY=cluster.
 */
import { CatalogService, normaliseSearch, type ProductSearchResult } from '../../src/app/catalog';
import type { SearchProductsDto } from '../../src/app/catalog/dto/search-products.dto';
import { DatabaseService } from '../../src/app/database/database.service';
import { createTestApp, type TestApp } from '../support/app';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from '../support/redis-harness';

const SEED_ROWS = 2_000;

describe(`reference service: cached catalog search (${testTopology()})`, () => {
  let redis: TestRedis;
  let t: TestApp;
  let catalog: CatalogService;
  let db: DatabaseService;
  let searches: jest.SpyInstance;

  /** What the search gives straight from the database, through the same JSON as an HTTP answer. */
  const uncached = async (query: SearchProductsDto): Promise<ProductSearchResult> =>
    JSON.parse(JSON.stringify(await catalog.search(normaliseSearch(query)))) as ProductSearchResult;

  beforeAll(async () => {
    redis = await startTestRedis();
    t = await createTestApp({
      redisEnv: redis.env,
      env: {
        REDIS_KEY_PREFIX: uniquePrefix('catalog'),
        CATALOG_SEED_ROWS: String(SEED_ROWS),
        CACHE_TTL_MS: '60000',
      },
    });
    catalog = t.app.get(CatalogService, { strict: false });
    db = t.app.get(DatabaseService, { strict: false });
    searches = jest.spyOn(catalog, 'search');
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('seeds CATALOG_SEED_ROWS products at startup, idempotently', async () => {
    const count = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM products')).rows[0].n;
    expect(await count()).toBe(SEED_ROWS);
    await catalog.seed(SEED_ROWS);
    expect(await count()).toBe(SEED_ROWS);
    const categories = await db.query('SELECT DISTINCT category FROM products');
    expect(categories.rows.length).toBe(20);
  });

  it('answers a search from the database on a miss, then from the cache: the same answer as uncached', async () => {
    const path = '/catalog/search?category=books&minPriceCents=1000&maxPriceCents=30000&sort=price&limit=5';
    const first = await t.http.get(path).expect(200);
    expect(first.headers['x-cache']).toBe('MISS');
    const second = await t.http.get(path).expect(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toEqual(first.body);
    const direct = await uncached({
      category: 'books',
      minPriceCents: 1000,
      maxPriceCents: 30000,
      sort: 'price',
      limit: 5,
    });
    expect(second.body).toEqual(direct);
    // The aggregates are over every match, the items the cheapest five.
    const r = await db.query<{ n: number; units: number }>(
      `SELECT count(*)::int AS n, sum(stock)::int AS units FROM products
       WHERE category = 'books' AND price_cents BETWEEN 1000 AND 30000`,
    );
    expect(first.body.total).toBe(r.rows[0].n);
    expect(first.body.unitsInStock).toBe(r.rows[0].units);
    expect(first.body.items).toHaveLength(5);
    const prices = (first.body as ProductSearchResult).items.map((p) => p.priceCents);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
    expect(first.body.items[0]).toEqual({
      id: expect.any(Number),
      sku: expect.stringMatching(/^SKU-\d{7}$/),
      name: expect.any(String),
      category: 'books',
      brand: expect.any(String),
      priceCents: prices[0],
      rating: expect.any(Number),
      stock: expect.any(Number),
    });
    expect(first.body.topBrands.length).toBeGreaterThan(0);
  });

  it('asks the database at most once per search per TTL, concurrent callers included', async () => {
    const before = searches.mock.calls.length;
    const paths = ['/catalog/search?category=toys', '/catalog/search?inStock=true&sort=-price'];
    for (const path of paths) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => t.http.get(path).expect(200)));
      for (const a of answers) expect(a.body).toEqual(answers[0].body);
      for (let i = 0; i < 5; i++) await t.http.get(path).expect(200);
    }
    // Equal searches written differently share one key (defaults filled in).
    await t.http.get('/catalog/search?category=toys&sort=rating&limit=10&minPriceCents=0').expect(200);
    expect(searches.mock.calls.length - before).toBe(paths.length);
  });

  it('a write invalidates the searches of its category and the all-categories ones, not the others', async () => {
    const cheapest = '/catalog/search?category=games&sort=price&limit=1';
    const everything = '/catalog/search?sort=price&limit=3';
    const other = '/catalog/search?category=garden';
    const before = await t.http.get(cheapest).expect(200);
    await t.http.get(everything).expect(200);
    await t.http.get(other).expect(200);
    expect((await t.http.get(cheapest).expect(200)).headers['x-cache']).toBe('HIT');

    const product = before.body.items[0] as { id: number; priceCents: number };
    const patched = await t.http.patch(`/catalog/products/${product.id}`).send({ priceCents: 0, stock: 7 }).expect(200);
    expect(patched.body).toMatchObject({ id: product.id, category: 'games', priceCents: 0, stock: 7 });

    const after = await t.http.get(cheapest).expect(200);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(after.body.items[0]).toMatchObject({ id: product.id, priceCents: 0 });
    expect(after.body.priceCents.min).toBe(0);
    expect(after.body).toEqual(await uncached({ category: 'games', sort: 'price', limit: 1 }));
    const all = await t.http.get(everything).expect(200);
    expect(all.headers['x-cache']).toBe('MISS');
    expect(all.body.items[0]).toMatchObject({ id: product.id, priceCents: 0 });
    expect((await t.http.get(other).expect(200)).headers['x-cache']).toBe('HIT');
  });

  it.each([
    ['an unknown category', 'category=spaceships', /category must be one of: audio, books/],
    ['a non-numeric price', 'minPriceCents=cheap', /minPriceCents must be a whole number of cents/],
    ['a negative price', 'minPriceCents=-1', /minPriceCents must be a whole number of cents/],
    ['a fractional price', 'maxPriceCents=1.5', /maxPriceCents must be a whole number of cents/],
    ['a price above the maximum', 'maxPriceCents=100000001', /maxPriceCents must not be greater than 100000000/],
    ['min above max', 'minPriceCents=500&maxPriceCents=100', /minPriceCents must not be greater than maxPriceCents/],
    ['a zero limit', 'limit=0', /limit must not be less than 1/],
    ['a limit above 50', 'limit=51', /limit must not be greater than 50/],
    ['an unknown sort', 'sort=newest', /sort must be one of: rating, price, -price/],
    ['a bad inStock', 'inStock=yes', /inStock must be true or false/],
    ['a repeated parameter', 'limit=1&limit=2', /limit must be a whole number/],
    ['an unknown parameter', 'colour=red', /property colour should not exist/],
  ])('GET /catalog/search with %s → 400 naming the problem', async (_label, query, message) => {
    const res = await t.http.get(`/catalog/search?${query}`).expect(400);
    expect(JSON.stringify(res.body.message)).toMatch(message);
  });

  it.each([
    ['no fields', 400, '1', {}, /give at least one of priceCents, stock/],
    ['a negative price', 400, '1', { priceCents: -5 }, /priceCents must not be less than 0/],
    ['a text stock', 400, '1', { stock: 'many' }, /stock must be an integer/],
    ['an unknown field', 400, '1', { name: 'x' }, /property name should not exist/],
    ['a bad id', 400, 'abc', { stock: 1 }, /id must be an integer/],
    ['an unknown id', 404, '1999999999', { stock: 1 }, /product 1999999999 not found/],
  ])('PATCH /catalog/products/:id with %s → %i', async (_label, status, id, body, message) => {
    const res = await t.http.patch(`/catalog/products/${id}`).send(body).expect(status);
    expect(JSON.stringify(res.body.message)).toMatch(message);
  });

  it('rate-limits the search per IP (SEARCH_RATE_LIMIT_PER_MINUTE): RateLimit headers, then 429 + Retry-After', async () => {
    const limited = await createTestApp({
      redisEnv: redis.env,
      env: {
        REDIS_KEY_PREFIX: uniquePrefix('catalog-rl'),
        CATALOG_SEED_ROWS: '100',
        SEARCH_RATE_LIMIT_PER_MINUTE: '3',
      },
    });
    try {
      for (let remaining = 2; remaining >= 0; remaining--) {
        const ok = await limited.http.get('/catalog/search?category=toys').expect(200);
        expect(ok.headers['ratelimit-policy']).toBe('"search";q=3;w=60');
        expect(ok.headers['ratelimit']).toMatch(new RegExp(`^"search";r=${remaining};t=\\d+$`));
      }
      const refused = await limited.http.get('/catalog/search?category=garden').expect(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.body).toMatchObject({
        statusCode: 429,
        message: expect.stringMatching(/^Too many requests: the limit "search" allows 3 per 60 s; retry in \d+ s$/),
      });
      // Off by default under NODE_ENV=test: the suite's own app sends no rate-limit headers.
      expect((await t.http.get('/catalog/search?category=toys').expect(200)).headers['ratelimit']).toBeUndefined();
    } finally {
      await limited.close();
    }
  });

  it('answers from the database while Redis is down, and writes still succeed; cached again once it is back', async () => {
    const path = '/catalog/search?category=kitchen&sort=-price&limit=4';
    await redis.kill();
    try {
      const down = await t.http.get(path).expect(200);
      expect(down.headers['x-cache']).toBe('MISS');
      expect(down.body).toEqual(await uncached({ category: 'kitchen', sort: '-price', limit: 4 }));
      const id = down.body.items[0].id as number;
      await t.http.patch(`/catalog/products/${id}`).send({ stock: 3 }).expect(200);
      const again = await t.http.get(path).expect(200);
      expect(again.body.items[0]).toMatchObject({ id, stock: 3 });
    } finally {
      await redis.start();
    }
    // Back (restarted empty): a miss fills the cache again, the next answer is a hit.
    let status = '';
    for (let i = 0; i < 50 && status !== 'HIT'; i++) {
      status = (await t.http.get(path).expect(200)).headers['x-cache'] as string;
      if (status !== 'HIT') await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe('HIT');
  });
});
