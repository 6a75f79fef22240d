/**
 * Benchmark `session`: authenticated `GET /auth/me` served by SessionModule with our RedisSessionStore vs the same
 * module with express-session's connect-redis 8.1 store on the SAME ioredis client, in one run; plus login
 * requests/s (scrypt N=16384, r=8, p=1 dominates it). The server runs in this process, autocannon in a child
 * process (its own core). Rounds alternate between the two stores; the reported figure per store is the median.
 *
 *   npm run bench -- session          (env: BENCH_DURATION_S=4, BENCH_CONNECTIONS=16, BENCH_ROUNDS=5)
 */
import 'reflect-metadata';
import { Controller, Get, HttpCode, Injectable, Post, UseGuards, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { execFile } from 'node:child_process';
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

const execFileAsync = promisify(execFile);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

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
async function startApp(
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

interface Measured {
  reqPerSec: number;
  p99Ms: number;
  p50Ms: number;
  errors: number;
  non2xx: number;
}

/** Runs autocannon in a child process (its own CPU) and returns its summary. */
async function autocannon(url: string, args: string[]): Promise<Measured> {
  const bin = require.resolve('autocannon/autocannon.js');
  const { stdout } = await execFileAsync(
    process.execPath,
    [bin, '-j', '-c', String(CONNECTIONS), '-d', String(DURATION_S), ...args, url],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const r = JSON.parse(stdout) as {
    requests: { average: number };
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
  };
}

async function loginCookie(url: string): Promise<string> {
  const res = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  return res.headers.getSetCookie()[0].split(';')[0];
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

/** Runs the benchmark and prints a table; resolves the figures. */
export async function run(): Promise<Record<string, unknown>> {
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
    const results: Record<keyof typeof apps, Measured[]> = { ours: [], 'connect-redis': [] };
    for (let i = 0; i < ROUNDS; i++) {
      for (const k of (i % 2 === 0 ? ['ours', 'connect-redis'] : ['connect-redis', 'ours']) as Array<
        keyof typeof apps
      >) {
        const m = await me(k);
        if (m.non2xx > 0 || m.errors > 0) throw new Error(`${k}: ${m.non2xx} non-2xx, ${m.errors} errors`);
        results[k].push(m);
      }
    }
    const summary = (k: keyof typeof apps) => ({
      reqPerSec: Math.round(median(results[k].map((m) => m.reqPerSec))),
      p50Ms: median(results[k].map((m) => m.p50Ms)),
      p99Ms: median(results[k].map((m) => m.p99Ms)),
    });
    const ours = summary('ours');
    const theirs = summary('connect-redis');
    const login = await autocannon(`${apps.ours.url}/auth/login`, [
      '-m',
      'POST',
      '-H',
      'content-type=application/json',
      '-b',
      JSON.stringify({ username: 'demo', password: 'demo-password' }),
    ]);
    const figures = {
      config: { durationS: DURATION_S, connections: CONNECTIONS, rounds: ROUNDS, node: process.version },
      meOurs: ours,
      meConnectRedis: theirs,
      ratioReqPerSec: Number((ours.reqPerSec / theirs.reqPerSec).toFixed(3)),
      ratioPerRound: results.ours.map((m, i) =>
        Number((m.reqPerSec / results['connect-redis'][i].reqPerSec).toFixed(3)),
      ),
      p99NoWorse: ours.p99Ms <= theirs.p99Ms,
      login: {
        reqPerSec: Math.round(login.reqPerSec),
        p99Ms: login.p99Ms,
        non2xx: login.non2xx,
        scrypt: SCRYPT_PARAMS,
      },
    };
    console.log('\nsession benchmark: authenticated GET /auth/me (median of rounds), POST /auth/login');
    console.table({
      'GET /auth/me, RedisSessionStore': ours,
      'GET /auth/me, connect-redis 8.1': theirs,
      'POST /auth/login (ours, scrypt)': { reqPerSec: figures.login.reqPerSec, p50Ms: login.p50Ms, p99Ms: login.p99Ms },
    });
    console.log(
      `ratio ours/connect-redis req/s = ${figures.ratioReqPerSec} (target >= 0.9); p99 ${ours.p99Ms} vs ${theirs.p99Ms} ms; ` +
        `login with scrypt N=${SCRYPT_PARAMS.N} r=${SCRYPT_PARAMS.r} p=${SCRYPT_PARAMS.p}: ${figures.login.reqPerSec} req/s`,
    );
    console.log(JSON.stringify(figures));
    return figures;
  } finally {
    await new Promise((r) => setTimeout(r, 3000)); // let logins still hashing when autocannon stopped finish
    await apps.ours.app.close();
    await apps['connect-redis'].app.close();
    await server.stop();
  }
}

if (require.main === module) {
  run().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
