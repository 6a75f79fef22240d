/**
 * Benchmark `session`: authenticated `GET /auth/me` served by SessionModule with our RedisSessionStore vs the same
 * module with express-session's connect-redis 8.1 store on the SAME ioredis client, in one run; plus login
 * requests/s (scrypt N=16384, r=8, p=1 dominates it). The server runs in this process, autocannon in a child
 * process. Throughput/p99 rounds load BOTH servers at the same time (same noise for both); the ratio is the median
 * of per-round ratios. CPU-per-request rounds measure one store at a time.
 *
 *   npm run bench -- session   (standalone: node -r ./scripts/swc-register.cjs bench/session.bench.ts)
 *   env: BENCH_DURATION_S=2 (per round and side), BENCH_CONNECTIONS=16, BENCH_ROUNDS=9
 * Writes bench/results/session.json (the shared runner's report shape); exits 1 when a ratio target is missed.
 * startApp, loginCookie and autocannon are also used by the peers bench (bench/peers/session.peer.ts).
 */
import 'reflect-metadata';
import { Controller, Get, HttpCode, Injectable, Post, UseGuards, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RedisStore } from 'connect-redis';
import {
  CurrentUser,
  LocalLoginGuard,
  RedisModule,
  RedisService,
  SESSION_STORE,
  SessionAuthGuard,
  SessionModule,
  SessionUserLookup,
} from '../src';
import { DUMMY_HASH_PROMISE, SCRYPT_PARAMS, hashPassword, verifyPassword } from '../src/app/users/password';
import { startRedis, uniquePrefix } from '../test/support/redis-harness';
import { median, printLines, type BenchLine } from './support/bench-runner';

const execFileAsync = promisify(execFile);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const CPU_ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 3);

interface BenchUser {
  id: number;
  username: string;
}

let demoHash: Promise<string> | undefined;

/** Users in memory with a real scrypt hash (same parameters as the reference service). */
@Injectable()
class BenchUsers extends SessionUserLookup<BenchUser> {
  async validateCredentials(username: string, password: string): Promise<BenchUser | null> {
    demoHash ??= hashPassword('demo-password');
    const known = username === 'demo';
    const ok = await verifyPassword(password, known ? await demoHash : await DUMMY_HASH_PROMISE);
    return known && ok ? { id: 1, username } : null;
  }
  async findById(id: string): Promise<BenchUser | null> {
    return id === '1' ? { id: 1, username: 'demo' } : null;
  }
  getId(user: BenchUser): number {
    return user.id;
  }
}

@Controller('auth')
class BenchController {
  @Post('login')
  @HttpCode(200)
  @UseGuards(LocalLoginGuard)
  login(@CurrentUser() user: BenchUser): BenchUser {
    return user;
  }
  @Get('me')
  @UseGuards(SessionAuthGuard)
  me(@CurrentUser() user: BenchUser): BenchUser {
    return user;
  }
}

/** One server: SessionModule with our store, or with connect-redis 8.1 swapped in on the same ioredis client. */
export async function startApp(
  redisUrl: string,
  store: 'ours' | 'connect-redis',
): Promise<{ app: INestApplication; url: string }> {
  let builder = Test.createTestingModule({
    imports: [
      RedisModule.forRoot({ url: redisUrl, keyPrefix: uniquePrefix(`bench-${store}`) }),
      SessionModule.forRoot({
        secrets: ['bench-secret-0123456789'],
        secure: false,
        loginMaxAttempts: 1_000_000,
        userLookup: BenchUsers,
      }),
    ],
    controllers: [BenchController],
  });
  if (store === 'connect-redis') {
    builder = builder.overrideProvider(SESSION_STORE).useFactory({
      inject: [RedisService],
      factory: (redis: RedisService) => new RedisStore({ client: redis.getClient(), prefix: redis.prefixFor('sess') }),
    });
  }
  const app = (await builder.compile()).createNestApplication({ logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

export interface Measured {
  reqPerSec: number;
  p99Ms: number;
  p50Ms: number;
  errors: number;
  non2xx: number;
  /** CPU time of this (server) process per request, in microseconds: robust when other processes load the machine. */
  cpuUsPerReq: number;
}

/** Runs autocannon in a child process (its own CPU) and returns its summary. */
export async function autocannon(url: string, args: string[]): Promise<Measured> {
  const bin = require.resolve('autocannon/autocannon.js');
  const cpu0 = process.cpuUsage();
  const { stdout } = await execFileAsync(
    process.execPath,
    [bin, '-j', '-c', String(CONNECTIONS), '-d', String(DURATION_S), ...args, url],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const r = JSON.parse(stdout) as {
    requests: { average: number; total: number };
    latency: { p99: number; p50: number };
    errors: number;
    non2xx: number;
  };
  return {
    reqPerSec: r.requests.average,
    p99Ms: r.latency.p99,
    p50Ms: r.latency.p50,
    errors: r.errors,
    non2xx: r.non2xx,
    cpuUsPerReq: (() => {
      const d = process.cpuUsage(cpu0);
      return (d.user + d.system) / Math.max(1, r.requests.total);
    })(),
  };
}

export async function loginCookie(url: string): Promise<string> {
  const res = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  return res.headers.getSetCookie()[0].split(';')[0];
}

/** Runs the benchmark; resolves the figures (printed when run directly). */
export async function run(): Promise<BenchLine[]> {
  const server = await startRedis();
  const apps = {
    ours: await startApp(server.url, 'ours'),
    'connect-redis': await startApp(server.url, 'connect-redis'),
  };
  try {
    const cookies = {
      ours: await loginCookie(apps.ours.url),
      'connect-redis': await loginCookie(apps['connect-redis'].url),
    };
    const me = (k: keyof typeof apps) => autocannon(`${apps[k].url}/auth/me`, ['-H', `Cookie=${cookies[k]}`]);
    // warm-up (JIT, connections)
    await me('ours');
    await me('connect-redis');
    const check = (k: string, m: Measured) => {
      if (m.non2xx > 0 || m.errors > 0) throw new Error(`${k}: ${m.non2xx} non-2xx, ${m.errors} errors`);
      return m;
    };
    // 1. Throughput and p99: both servers loaded AT THE SAME TIME (two autocannon children), so the noise of a
    //    shared machine hits both alike; the event loop's time goes to whichever handler is cheaper.
    const paired: Record<keyof typeof apps, Measured[]> = { ours: [], 'connect-redis': [] };
    for (let i = 0; i < ROUNDS; i++) {
      const [a, b] = await Promise.all([me('ours'), me('connect-redis')]);
      paired.ours.push(check('ours', a));
      paired['connect-redis'].push(check('connect-redis', b));
    }
    // 2. Server CPU per request: one store at a time (alternating order), process.cpuUsage() / requests.
    const cpu: Record<keyof typeof apps, number[]> = { ours: [], 'connect-redis': [] };
    for (let i = 0; i < CPU_ROUNDS; i++) {
      for (const k of (i % 2 === 0 ? ['ours', 'connect-redis'] : ['connect-redis', 'ours']) as Array<
        keyof typeof apps
      >) {
        cpu[k].push(check(k, await me(k)).cpuUsPerReq);
      }
    }
    const summary = (k: keyof typeof apps) => ({
      reqPerSec: Math.round(median(paired[k].map((m) => m.reqPerSec))),
      p50Ms: median(paired[k].map((m) => m.p50Ms)),
      p99Ms: median(paired[k].map((m) => m.p99Ms)),
      cpuUsPerReq: Math.round(median(cpu[k])),
    });
    const ours = summary('ours');
    const theirs = summary('connect-redis');
    const ratios = paired.ours.map((m, i) => m.reqPerSec / paired['connect-redis'][i].reqPerSec);
    const ratio = median(ratios);
    const login = await autocannon(`${apps.ours.url}/auth/login`, [
      '-m',
      'POST',
      '-H',
      'content-type=application/json',
      '-b',
      JSON.stringify({ username: 'demo', password: 'demo-password' }),
    ]);
    const scrypt = `scrypt N=${SCRYPT_PARAMS.N} r=${SCRYPT_PARAMS.r} p=${SCRYPT_PARAMS.p}`;
    const lines: BenchLine[] = [
      { name: 'GET /auth/me, RedisSessionStore: req/s (median)', value: ours.reqPerSec, unit: 'req/s' },
      { name: 'GET /auth/me, connect-redis 8.1 same client: req/s (median)', value: theirs.reqPerSec, unit: 'req/s' },
      {
        name: 'GET /auth/me ours / connect-redis, loaded together (median of per-round ratios)',
        value: ratio,
        unit: 'ratio',
        target: '>= 0.9',
        pass: ratio >= 0.9,
      },
      { name: 'GET /auth/me, RedisSessionStore: server CPU per request (median)', value: ours.cpuUsPerReq, unit: 'µs' },
      {
        name: 'GET /auth/me, connect-redis 8.1: server CPU per request (median)',
        value: theirs.cpuUsPerReq,
        unit: 'µs',
      },
      {
        name: 'GET /auth/me CPU-bound throughput ours / connect-redis (CPU per req ratio)',
        value: theirs.cpuUsPerReq / ours.cpuUsPerReq,
        unit: 'ratio',
        target: '>= 0.9',
        pass: theirs.cpuUsPerReq / ours.cpuUsPerReq >= 0.9,
      },
      { name: 'GET /auth/me, RedisSessionStore: p99 (median)', value: ours.p99Ms, unit: 'ms' },
      {
        name: 'GET /auth/me, connect-redis 8.1: p99 (median)',
        value: theirs.p99Ms,
        unit: 'ms',
        target: `ours <= this`,
        pass: ours.p99Ms <= theirs.p99Ms,
      },
      { name: `POST /auth/login (${scrypt}): req/s`, value: login.reqPerSec, unit: 'req/s' },
      { name: `POST /auth/login (${scrypt}): p99`, value: login.p99Ms, unit: 'ms' },
    ];
    console.log(
      `per-round ratios: ${ratios.map((r) => r.toFixed(3)).join(' ')}; ${ROUNDS} rounds x ${DURATION_S} s, ` +
        `${CONNECTIONS} connections, Node ${process.version}`,
    );
    return lines;
  } finally {
    await new Promise((r) => setTimeout(r, 3000)); // let logins still hashing when autocannon stopped finish
    await apps.ours.app.close();
    await apps['connect-redis'].app.close();
    await server.stop();
  }
}

/** Saves the figures as bench/results/session.json, in the shared runner's report shape. */
function save(lines: BenchLine[]): void {
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const cases = lines.map((l) => ({
    case: l.name,
    opsPerSec: l.unit === 'req/s' ? l.value : null,
    value: l.value,
    unit: l.unit,
    ratio: l.unit === 'ratio' ? l.value : null,
    target: l.target,
    pass: l.pass,
  }));
  const report = { name: 'session', durationMs: DURATION_S * 1000, concurrency: CONNECTIONS, rounds: ROUNDS, cases };
  writeFileSync(join(dir, 'session.json'), `${JSON.stringify(report, null, 2)}\n`);
}

if (require.main === module) {
  run().then(
    (lines) => {
      printLines(lines, 3);
      save(lines);
      process.exit(lines.some((l) => l.unit === 'ratio' && l.pass === false) ? 1 : 0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
