/**
 * Benchmark `cache` (`npm run bench -- cache`; standalone: `node -r ./scripts/swc-register.cjs bench/cache.bench.ts`).
 *
 * Every figure is a ratio against a raw baseline measured in the same run, on the same redis-server:
 *  1. RedisKeyvStore get/set                vs raw ioredis GET/SET + JSON          (target >= 0.9)
 *  2. CacheService.getOrSet hit             vs raw GET + JSON.parse                (target >= 0.85)
 *     (1 and 2 gate on operations per second of this process's CPU: the client-side cost of the wrapper, which a
 *     machine shared with other work does not distort; the wall-clock ratio is printed next to it)
 *  3. near-cache hit                        vs Redis hit (getOrSet without near)   (target >= 10x)
 *  4. HTTP (autocannon, service in a child process, PostgreSQL at BENCH_DATABASE_URL):
 *     GET /users/:id cached vs a constant route of the same service            (target >= 0.8)
 *     cached vs uncached (straight to PostgreSQL): req/s at saturation, and database queries counted (<= 1 per key per TTL)
 *  5. HTTP latency at the same offered load (open loop, a fixed rate of half the uncached saturation throughput
 *     measured in this run, each request timed in µs): p50 and p99 cached vs uncached (target: cached p99 lower).
 *     At saturation (autocannon, 32 connections) p99 is the queue, connections / throughput, plus GC pauses:
 *     it tells little about what a request costs, so it is shown for information only.
 *  6. HTTP GET /catalog/search (a faceted search aggregating over the matches among BENCH_CATALOG_ROWS seeded
 *     products, default 100 000): cached vs the same search straight from PostgreSQL through a bench route
 *     (same validation), 100 searches (20 categories x 5 variants): req/s at saturation (target >= 5x), p99 at
 *     the same offered load (open loop, half the uncached saturation; target: cached lower), database queries
 *     during the cached runs (target <= 1 per search per TTL).
 * Short paired rounds alternate baseline and subject; the median of the per-round ratios is kept.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Controller,
  Get,
  Module,
  NotFoundException,
  Param,
  ParseIntPipe,
  Query,
  type INestApplication,
} from '@nestjs/common';
import { CACHE_MANAGER, type Cache } from '@nestjs/cache-manager';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import type { Redis } from 'ioredis';
import { CacheService, RedisCacheModule, RedisKeyvStore, RedisModule, RedisService } from '../src';
import { AppModule } from '../src/app/app.module';
import { configureApp } from '../src/app/app.setup';
import { CATEGORIES, CatalogModule, CatalogService, normaliseSearch } from '../src/app/catalog';
import { SearchProductsDto } from '../src/app/catalog/dto/search-products.dto';
import { UsersModule } from '../src/app/users/users.module';
import { UsersService } from '../src/app/users/users.service';
import { startRedis, uniquePrefix } from '../test/support/redis-harness';
import { median, percentile, printLines, type BenchLine } from './support/bench-runner';
import { USER_VALUE } from './support/bench-values';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<any>;

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 9 : 41;
const HTTP_SECONDS = 2;
const HTTP_ROUNDS = QUICK ? 2 : 7;
const HTTP_CONNECTIONS = 32;
/** Open-loop latency rounds: seconds per round and rounds per route. */
const LATENCY_SECONDS = QUICK ? 2 : 3;
const LATENCY_ROUNDS = QUICK ? 2 : 5;
const USERS = 100;
/** Products seeded for the catalog search. */
const CATALOG_ROWS = Number(process.env.BENCH_CATALOG_ROWS ?? 100_000);
/** The searches of the catalog runs: every category with five variants (100 cache keys). */
const SEARCHES = CATEGORIES.flatMap((category) =>
  ['sort=rating', 'sort=price', 'sort=-price', 'minPriceCents=1000&maxPriceCents=20000', 'inStock=true'].map(
    (variant) => `category=${category}&${variant}`,
  ),
);

const VALUE = USER_VALUE;

/** Throughput of one run: per wall-clock second and per second of this process's CPU. */
interface Speed {
  /** Operations per wall-clock second. */
  wall: number;
  /** Operations per CPU second of this process (user + system): the client-side cost, not disturbed by other tenants. */
  cpu: number;
}

/** Runs `ops` calls of `op` with `concurrency` in flight. */
async function speed(op: (i: number) => Promise<unknown>, ops: number, concurrency: number): Promise<Speed> {
  let next = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ops) await op(next++);
    }),
  );
  const ns = Number(process.hrtime.bigint() - t0);
  const c = process.cpuUsage(c0);
  return { wall: ops / (ns / 1e9), cpu: ops / ((c.user + c.system) / 1e6) };
}

/** Medians of one comparison: ops/s of each side and subject/baseline ratios (wall clock and CPU). */
interface Comparison {
  base: number;
  subj: number;
  wallRatio: number;
  cpuRatio: number;
}

/**
 * Alternates baseline and subject in short paired rounds (order flipped every round) and keeps the medians of the
 * per-round ratios: robust against a machine shared with other work.
 */
async function compare(
  baseline: (i: number) => Promise<unknown>,
  subject: (i: number) => Promise<unknown>,
  ops: number,
  concurrency = 16,
): Promise<Comparison> {
  await speed(baseline, ops, concurrency); // warm-up
  await speed(subject, ops, concurrency);
  const b: number[] = [];
  const s: number[] = [];
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let x: Speed;
    let y: Speed;
    if (r % 2) {
      y = await speed(subject, ops, concurrency);
      x = await speed(baseline, ops, concurrency);
    } else {
      x = await speed(baseline, ops, concurrency);
      y = await speed(subject, ops, concurrency);
    }
    b.push(x.wall);
    s.push(y.wall);
    wall.push(y.wall / x.wall);
    cpu.push(y.cpu / x.cpu);
  }
  return { base: median(b), subj: median(s), wallRatio: median(wall), cpuRatio: median(cpu) };
}

/** Report lines of one comparison: the CPU ratio is the gate, the wall-clock ratio is shown next to it. */
function ratioLines(name: string, c: Comparison, target: number, lines: BenchLine[]): void {
  lines.push({
    name: `${name} (client CPU per op)`,
    value: c.cpuRatio,
    unit: 'ratio',
    target: `>= ${target}`,
    pass: c.cpuRatio >= target,
  });
  lines.push({ name: `${name} (wall clock, info)`, value: c.wallRatio, unit: 'ratio' });
}

async function microBenchmarks(lines: BenchLine[]): Promise<void> {
  const server = await startRedis();
  const prefix = uniquePrefix('bench');
  const make = (near: boolean) => {
    @Module({
      imports: [
        RedisModule.forRoot({ url: server.url, keyPrefix: prefix }),
        RedisCacheModule.forRoot({ defaultTtlMs: 600_000, nearCache: near ? { maxEntries: 10_000 } : false }),
      ],
    })
    class MicroModule {}
    return NestFactory.createApplicationContext(MicroModule, { logger: ['error'] });
  };
  const plainCtx = await make(false);
  const nearCtx = await make(true);
  try {
    const raw = plainCtx.get(RedisService).getClient() as Redis;
    const store = plainCtx.get(RedisKeyvStore);
    const cm = plainCtx.get<Cache>(CACHE_MANAGER);
    const cache = plainCtx.get(CacheService);
    const nearCache = nearCtx.get(CacheService);
    const rawKey = `${prefix}raw:k`;
    await raw.set(rawKey, JSON.stringify(VALUE), 'PX', 600_000);
    await store.set('k', { value: VALUE }, 600_000);
    const ops = 3_000;

    const rawGet = async () => JSON.parse((await raw.get(rawKey)) as string);
    const get = await compare(rawGet, () => store.get('k'), ops);
    ratioLines('store.get vs raw GET+JSON.parse', get, 0.9, lines);
    lines.push({ name: '  raw GET+JSON.parse', value: get.base, unit: 'ops/s' });
    lines.push({ name: '  RedisKeyvStore.get', value: get.subj, unit: 'ops/s' });

    const set = await compare(
      (i) => raw.set(`${prefix}raw:s${i % 100}`, JSON.stringify(VALUE), 'PX', 600_000),
      (i) => store.set(`s${i % 100}`, { value: VALUE }, 600_000),
      ops,
    );
    ratioLines('store.set vs raw SET PX+JSON.stringify', set, 0.9, lines);
    lines.push({ name: '  raw SET', value: set.base, unit: 'ops/s' });
    lines.push({ name: '  RedisKeyvStore.set', value: set.subj, unit: 'ops/s' });

    const viaCm = await compare(rawGet, () => cm.get('k'), ops);
    lines.push({
      name: 'CACHE_MANAGER.get (cache-manager+Keyv+store) vs raw GET, CPU (info)',
      value: viaCm.cpuRatio,
      unit: 'ratio',
    });

    await cache.getOrSet('g', async () => VALUE);
    const hit = await compare(rawGet, () => cache.getOrSet('g', async () => VALUE), ops);
    ratioLines('getOrSet hit vs raw GET+JSON.parse', hit, 0.85, lines);
    lines.push({ name: '  CacheService.getOrSet (Redis hit)', value: hit.subj, unit: 'ops/s' });

    await nearCache.getOrSet('g', async () => VALUE);
    const near = await compare(
      () => cache.getOrSet('g', async () => VALUE),
      () => nearCache.getOrSet('g', async () => VALUE),
      ops,
    );
    lines.push({
      name: 'near-cache hit vs Redis hit (wall clock)',
      value: near.wallRatio,
      unit: 'x',
      target: '>= 10',
      pass: near.wallRatio >= 10,
    });
    lines.push({ name: '  near-cache hit', value: near.subj, unit: 'ops/s' });
  } finally {
    await nearCtx.close();
    await plainCtx.close();
    await server.stop();
  }
}

// ---------------------------------------------------------------- HTTP: the service runs in a child process

let dbQueries = 0;
let catalogQueries = 0;
let benchCache: CacheService | undefined;

@Controller('bench')
class BenchController {
  constructor(
    private readonly users: UsersService,
    private readonly catalog: CatalogService,
  ) {}

  /** The ceiling: the same service (middleware, filters, pipes) answering a constant. */
  @Get('constant')
  constant(): typeof VALUE {
    return VALUE;
  }

  /** Uncached: straight to PostgreSQL. */
  @Get('uncached/:id')
  async uncached(@Param('id', ParseIntPipe) id: number): Promise<unknown> {
    const user = await this.users.findById(id);
    if (!user) throw new NotFoundException();
    return user;
  }

  /** Uncached: the catalog search straight from PostgreSQL, after the same validation as the cached route. */
  @Get('catalog-uncached')
  uncachedSearch(@Query() query: SearchProductsDto): Promise<unknown> {
    return this.catalog.search(normaliseSearch(query));
  }

  /** Database queries of the catalog search since the last reset. */
  @Get('catalog-queries')
  searchQueries(): { count: number } {
    const count = catalogQueries;
    catalogQueries = 0;
    return { count };
  }

  /** CacheService counters (fail-open timeouts would show as errors/outages). */
  @Get('cache-stats')
  cacheStats(): unknown {
    return benchCache?.stats;
  }

  /** Database queries of findById since the last reset. */
  @Get('db-queries')
  queries(): { count: number } {
    const count = dbQueries;
    dbQueries = 0;
    return { count };
  }
}

async function serve(): Promise<void> {
  @Module({ imports: [AppModule, UsersModule, CatalogModule], controllers: [BenchController] })
  class BenchAppModule {}
  const app: INestApplication = await NestFactory.create(BenchAppModule, { logger: ['error'] });
  configureApp(app);
  await app.init();
  const users = app.get(UsersService, { strict: false });
  benchCache = app.get(CacheService, { strict: false });
  const original = users.findById.bind(users);
  users.findById = (id: number) => {
    dbQueries++;
    return original(id);
  };
  const catalog = app.get(CatalogService, { strict: false });
  const search = catalog.search.bind(catalog);
  catalog.search = (q) => {
    catalogQueries++;
    return search(q);
  };
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  process.stdout.write(`READY ${address.port}\n`);
  process.on('SIGTERM', () => {
    void app.close().then(() => process.exit(0));
  });
}

async function startService(env: Record<string, string>): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-r', join(__dirname, '../scripts/swc-register.cjs'), __filename, '--serve'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
    setTimeout(() => reject(new Error('service did not start in 60 s')), 60_000).unref();
  });
  return { port, child };
}

async function cannon(
  port: number,
  path: (i: number) => string,
  seconds = HTTP_SECONDS,
): Promise<{ rps: number; p99: number; errors: number }> {
  let i = 0;
  const r = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: HTTP_CONNECTIONS,
    duration: seconds,
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, path: path(i++) }) }],
  });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

/** Latencies of one open-loop run, in milliseconds (µs resolution). */
interface Latency {
  p50: number;
  p99: number;
  errors: number;
}

/**
 * Open-loop load: requests are sent on a fixed schedule (`ratePerSec`), whether or not earlier ones have been
 * answered, over keep-alive connections; each latency is measured from its send time with hrtime. Unlike a
 * saturating closed loop, the latency then reflects what a request costs, not how long the queue is.
 */
async function openLoop(
  port: number,
  path: (i: number) => string,
  ratePerSec: number,
  seconds: number,
): Promise<Latency> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const latencies: number[] = [];
  let errors = 0;
  const inflight: Array<Promise<void>> = [];
  const total = Math.round(ratePerSec * seconds);
  const t0 = process.hrtime.bigint();
  let sent = 0;
  const send = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const start = process.hrtime.bigint();
      const req = request({ host: '127.0.0.1', port, path: path(i), agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  await new Promise<void>((done) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((Number(process.hrtime.bigint() - t0) / 1e9) * ratePerSec));
      while (sent < due) inflight.push(send(sent++));
      if (sent >= total) done();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inflight);
  agent.destroy();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

/**
 * Open-loop latency of a cached and an uncached route at one offered load: LATENCY_ROUNDS rounds per route,
 * alternating which goes first; `before` / `after` run around each measurement (query counters).
 */
async function latencyRounds(
  port: number,
  paths: Record<'cached' | 'uncached', (i: number) => string>,
  ratePerSec: number,
  before: () => Promise<unknown>,
  after: (route: 'cached' | 'uncached') => Promise<void>,
): Promise<Record<'cached' | 'uncached', Latency[]>> {
  const latency: Record<'cached' | 'uncached', Latency[]> = { cached: [], uncached: [] };
  await openLoop(port, paths.cached, ratePerSec, 1); // warm-up of the open-loop client
  for (let r = 0; r < LATENCY_ROUNDS; r++) {
    const first = r % 2 ? 'uncached' : 'cached';
    for (const route of [first, first === 'cached' ? 'uncached' : 'cached'] as const) {
      await before();
      latency[route].push(await openLoop(port, paths[route], ratePerSec, LATENCY_SECONDS));
      await after(route);
    }
  }
  return latency;
}

/** Report lines of {@link latencyRounds}: median p99 (target: cached lower) and p50 of each route. */
function latencyLines(
  label: string,
  ratePerSec: number,
  latency: Record<'cached' | 'uncached', Latency[]>,
): BenchLine[] {
  const lat = (route: 'cached' | 'uncached', f: 'p50' | 'p99') => median(latency[route].map((x) => x[f]));
  return [
    {
      name: `${label}p99 at ${ratePerSec} req/s (open loop): cached`,
      value: lat('cached', 'p99'),
      unit: 'ms',
      target: '< uncached',
      pass: lat('cached', 'p99') < lat('uncached', 'p99'),
    },
    { name: `${label}p99 at ${ratePerSec} req/s (open loop): uncached`, value: lat('uncached', 'p99'), unit: 'ms' },
    { name: `${label}p50 at ${ratePerSec} req/s (open loop): cached`, value: lat('cached', 'p50'), unit: 'ms' },
    { name: `${label}p50 at ${ratePerSec} req/s (open loop): uncached`, value: lat('uncached', 'p50'), unit: 'ms' },
  ];
}

/**
 * GET /catalog/search cached vs the same searches straight from PostgreSQL, on the service at `port`: throughput at
 * saturation (rounds alternate the order; ratio of the medians), latency at the same offered load, database queries.
 */
async function catalogBenchmarks(port: number, ttlMs: number, lines: BenchLine[]): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const queries = async () =>
    ((await (await fetch(`${base}/bench/catalog-queries`)).json()) as { count: number }).count;
  const paths = {
    cached: (i: number) => `/catalog/search?${SEARCHES[i % SEARCHES.length]}`,
    uncached: (i: number) => `/bench/catalog-uncached?${SEARCHES[i % SEARCHES.length]}`,
  };
  const started = Date.now();
  await cannon(port, paths.uncached, 2); // warm-up; the cached one also fills the cache once per search
  await queries();
  await cannon(port, paths.cached, 2);
  let cachedQueries = await queries();
  let uncachedQueries = 0;
  const runs: Record<'cached' | 'uncached', Array<{ rps: number; p99: number; errors: number }>> = {
    cached: [],
    uncached: [],
  };
  for (let r = 0; r < HTTP_ROUNDS; r++) {
    const first = r % 2 ? 'uncached' : 'cached';
    for (const route of [first, first === 'cached' ? 'uncached' : 'cached'] as const) {
      await queries();
      runs[route].push(await cannon(port, paths[route]));
      if (route === 'cached') cachedQueries += await queries();
      else uncachedQueries += await queries();
    }
  }
  const rps = (route: 'cached' | 'uncached') => median(runs[route].map((x) => x.rps));
  const ratio = rps('cached') / rps('uncached');
  const ratePerSec = Math.max(20, Math.round(rps('uncached') / 2));
  const latency = await latencyRounds(port, paths, ratePerSec, queries, async (route) => {
    if (route === 'cached') cachedQueries += await queries();
    else uncachedQueries += await queries();
  });
  const errors = [...runs.cached, ...runs.uncached, ...latency.cached, ...latency.uncached].reduce(
    (a, x) => a + x.errors,
    0,
  );
  const keys = SEARCHES.length;
  lines.push(
    {
      name: `HTTP GET /catalog/search (${CATALOG_ROWS} products) cached vs uncached req/s`,
      value: ratio,
      unit: 'x',
      target: '>= 5',
      pass: ratio >= 5,
    },
    { name: '  cached GET /catalog/search', value: rps('cached'), unit: 'req/s' },
    { name: '  uncached (the same search on PostgreSQL)', value: rps('uncached'), unit: 'req/s' },
    ...latencyLines('catalog: ', ratePerSec, latency),
    {
      name: `catalog: DB queries, cached (${keys} keys, TTL ${ttlMs / 1000} s, ${Math.round((Date.now() - started) / 1000)} s in all)`,
      value: cachedQueries,
      unit: 'queries',
      target: `<= ${keys}`,
      pass: cachedQueries <= keys,
    },
    { name: 'catalog: DB queries, uncached runs', value: uncachedQueries, unit: 'queries' },
    { name: 'catalog: HTTP errors (non-2xx + socket)', value: errors, unit: 'count', target: '0', pass: errors === 0 },
  );
}

async function httpBenchmarks(lines: BenchLine[]): Promise<void> {
  const server = await startRedis();
  const ttlMs = 600_000; // longer than the whole run: the count below is then queries per key per TTL
  const { port, child } = await startService({
    NODE_ENV: 'test',
    REDIS_URL: server.url,
    REDIS_KEY_PREFIX: uniquePrefix('bench-http'),
    DATABASE_URL,
    CACHE_TTL_MS: String(ttlMs),
    RATE_LIMIT_PER_MINUTE: '0',
    SEARCH_RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'error',
    CATALOG_SEED_ROWS: String(CATALOG_ROWS),
  });
  const pg = new Client({ connectionString: DATABASE_URL });
  await pg.connect();
  const tag = `bench${Date.now().toString(36)}`;
  try {
    const ids: number[] = [];
    for (let i = 0; i < USERS; i++) {
      const r = await pg.query<{ id: number }>(
        `INSERT INTO users (username, display_name, email, password_hash) VALUES ($1, $2, $3, 'x') RETURNING id`,
        [`${tag}-${i}`, `Bench User ${i}`, `bench${i}@example.com`],
      );
      ids.push(r.rows[0].id);
    }
    const pick = (i: number) => ids[i % ids.length];
    const base = `http://127.0.0.1:${port}`;
    const queries = async () => ((await (await fetch(`${base}/bench/db-queries`)).json()) as { count: number }).count;
    // warm-up of every route (JIT, connection pools, cache filled once per key), then measured runs
    const started = Date.now();
    await cannon(port, () => '/bench/constant', 2);
    await cannon(port, (i) => `/bench/uncached/${pick(i)}`, 2);
    await queries();
    await cannon(port, (i) => `/users/${pick(i)}`, 2);
    const warmQueries = await queries();
    // Rounds rotate the order of the three routes; ratios are medians of per-round ratios.
    const runs: Record<'constant' | 'cached' | 'uncached', Array<{ rps: number; p99: number; errors: number }>> = {
      constant: [],
      cached: [],
      uncached: [],
    };
    let cachedQueries = warmQueries;
    let uncachedQueries = 0;
    const order = ['constant', 'cached', 'uncached'] as const;
    for (let r = 0; r < HTTP_ROUNDS; r++) {
      for (let k = 0; k < order.length; k++) {
        const route = order[(k + r) % order.length];
        await queries();
        if (route === 'constant') runs.constant.push(await cannon(port, () => '/bench/constant'));
        if (route === 'cached') {
          runs.cached.push(await cannon(port, (i) => `/users/${pick(i)}`));
          cachedQueries += await queries();
        }
        if (route === 'uncached') {
          runs.uncached.push(await cannon(port, (i) => `/bench/uncached/${pick(i)}`));
          uncachedQueries += await queries();
        }
      }
    }
    const med = (xs: Array<{ rps: number; p99: number }>, f: 'rps' | 'p99') => median(xs.map((x) => x[f]));
    const constant = { rps: med(runs.constant, 'rps'), p99: med(runs.constant, 'p99') };
    const cached = { rps: med(runs.cached, 'rps'), p99: med(runs.cached, 'p99') };
    const uncached = { rps: med(runs.uncached, 'rps'), p99: med(runs.uncached, 'p99') };
    // Latency at the same offered load: half the uncached saturation throughput, rounds alternate the routes.
    const ratePerSec = Math.max(50, Math.round(uncached.rps / 2));
    const latency = await latencyRounds(
      port,
      { cached: (i) => `/users/${pick(i)}`, uncached: (i) => `/bench/uncached/${pick(i)}` },
      ratePerSec,
      queries,
      async (route) => {
        if (route === 'cached') cachedQueries += await queries();
        else uncachedQueries += await queries();
      },
    );
    const errors = [...runs.constant, ...runs.cached, ...runs.uncached, ...latency.cached, ...latency.uncached].reduce(
      (a, x) => a + x.errors,
      0,
    );
    const ratio = median(runs.cached.map((c, i) => c.rps / runs.constant[i].rps));
    const stats = (await (await fetch(`${base}/bench/cache-stats`)).json()) as Record<string, number>;
    console.error(`service cache stats: ${JSON.stringify(stats)}`);
    lines.push({
      name: 'HTTP GET /users/:id cached vs constant route',
      value: ratio,
      unit: 'ratio',
      target: '>= 0.8',
      pass: ratio >= 0.8,
    });
    lines.push({ name: '  constant route', value: constant.rps, unit: 'req/s' });
    lines.push({ name: '  cached GET /users/:id', value: cached.rps, unit: 'req/s' });
    lines.push({ name: '  uncached (PostgreSQL)', value: uncached.rps, unit: 'req/s' });
    lines.push({
      name: 'cached vs uncached req/s',
      value: cached.rps / uncached.rps,
      unit: 'x',
      target: '> 1',
      pass: cached.rps > uncached.rps,
    });
    lines.push({ name: '  p99 at saturation: constant (info)', value: constant.p99, unit: 'ms' });
    lines.push({ name: '  p99 at saturation: cached (info)', value: cached.p99, unit: 'ms' });
    lines.push({ name: '  p99 at saturation: uncached (info)', value: uncached.p99, unit: 'ms' });
    lines.push(...latencyLines('', ratePerSec, latency));
    lines.push({
      name: `DB queries, cached (${USERS} keys, TTL ${ttlMs / 1000} s, ${Math.round((Date.now() - started) / 1000)} s in all)`,
      value: cachedQueries,
      unit: 'queries',
      target: `<= ${USERS}`,
      pass: cachedQueries <= USERS,
    });
    lines.push({ name: 'DB queries, uncached runs', value: uncachedQueries, unit: 'queries' });
    lines.push({
      name: 'HTTP errors (non-2xx + socket)',
      value: errors,
      unit: 'count',
      target: '0',
      pass: errors === 0,
    });
    await catalogBenchmarks(port, ttlMs, lines);
  } finally {
    await pg.query('DELETE FROM users WHERE username LIKE $1', [`${tag}-%`]).catch(() => undefined);
    await pg.end();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await server.stop();
  }
}

/** Runs every case and returns the figures (used by the bench runner; printed when run directly). */
export async function run(): Promise<BenchLine[]> {
  const lines: BenchLine[] = [];
  if (process.env.BENCH_SKIP_MICRO !== '1') await microBenchmarks(lines);
  if (process.env.BENCH_SKIP_HTTP !== '1') await httpBenchmarks(lines);
  return lines;
}

/** Saves the figures as bench/results/cache.json (the shape bench/support/bench-runner.ts writes). */
function save(lines: BenchLine[]): void {
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const cases = lines.map((l) => ({
    case: l.name.trim(),
    opsPerSec: l.unit === 'ops/s' || l.unit === 'req/s' ? l.value : null,
    p50Ms: null,
    p99Ms: l.unit === 'ms' ? l.value : null,
    baselineOpsPerSec: null,
    ratio: l.unit === 'ratio' || l.unit === 'x' ? l.value : null,
    value: l.value,
    unit: l.unit,
    ...(l.target ? { target: l.target } : {}),
    ...(l.pass !== undefined ? { pass: l.pass } : {}),
  }));
  writeFileSync(join(dir, 'cache.json'), JSON.stringify({ name: 'cache', cases }, null, 2) + '\n');
}

if (require.main === module) {
  if (process.argv.includes('--serve')) {
    serve().catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  } else {
    run()
      .then((lines) => {
        printLines(lines);
        save(lines);
        process.exit(lines.some((l) => l.pass === false) ? 1 : 0);
      })
      .catch((err: unknown) => {
        console.error(err);
        process.exit(1);
      });
  }
}
