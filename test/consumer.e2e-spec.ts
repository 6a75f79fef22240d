/**
 * The package as other projects get it: the library is compiled like `nest build` does, packed with `npm pack`
 * (package.json "files" decide what goes in) and installed once, with its peer dependencies, into a folder outside
 * the repository that holds three projects sharing that install:
 * - a CommonJS project and a `"type": "module"` project, each running a plain-JS Nest app that uses every module
 *   through the package entries only (the root and every subpath: test/consumer/consumer-app.{cjs,mjs} + the
 *   shared consumer-app.body.js) against a real redis-server, and checks that each class exists once whichever
 *   entry and whichever module system it came through;
 * - a strict TypeScript project (`moduleResolution: nodenext`) type-checking a CommonJS and an ES module file
 *   against the shipped declarations of every entry.
 * Each subpath entry is also loaded alone in a fresh process, which must not load the packages of other features
 * (test/consumer/loaded-packages.cjs). The CommonJS app runs on the redis-server of this suite's harness; the
 * ES module app starts its own through `nest-redis-kit/testing`, as a user's test suite would.
 *
 * npm runs with --prefer-offline: on a machine that installed this repository, every package comes
 * from the local npm cache.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startRedis, uniquePrefix, type RedisServer } from './support/redis-harness';

const execFileAsync = promisify(execFile);
const ROOT = resolve(__dirname, '..');
/** Required peers. */
const PEERS = ['@nestjs/common', '@nestjs/core', 'ioredis', 'reflect-metadata', 'rxjs'];
/** What a Nest HTTP application has anyway (sessions need an HTTP server). */
const APP_DEPS = ['@nestjs/platform-express'];

/** The optional peer of tracing: looked up on first use, so no entry loads it when loaded alone. */
const OTEL = '@opentelemetry/api';

/**
 * Each subpath entry, the module it must export, the optional peers it may use (`uses`) and those it must load
 * (`loads`); loaded alone, it must not load any other optional peer. The root re-exports each one but `testing`
 * (test helpers that start processes stay out of production imports: `inRoot: false`).
 */
const ENTRIES: Array<{ entry: string; exports: string; uses: string[]; loads: string[]; inRoot?: false }> = [
  { entry: 'redis', exports: 'RedisModule', uses: [], loads: ['ioredis', '@nestjs/terminus'] },
  {
    entry: 'cache',
    exports: 'RedisCacheModule',
    uses: ['@nestjs/cache-manager', 'cache-manager', 'keyv', OTEL],
    loads: ['keyv', '@nestjs/cache-manager'],
  },
  {
    entry: 'session',
    exports: 'SessionModule',
    uses: ['passport', 'passport-local', 'express-session', 'class-validator', 'class-transformer', OTEL],
    loads: ['express-session', 'passport'],
  },
  {
    entry: 'messaging',
    exports: 'MessagingModule',
    uses: ['class-validator', 'class-transformer', OTEL],
    loads: ['class-validator'],
  },
  {
    entry: 'transport',
    exports: 'RedisStreamsTransportModule',
    uses: ['@nestjs/microservices', 'class-validator', 'class-transformer', OTEL],
    loads: ['@nestjs/microservices'],
  },
  { entry: 'lock', exports: 'LockModule', uses: ['@sesamecare-oss/redlock', OTEL], loads: ['@sesamecare-oss/redlock'] },
  // prom-client itself loads @opentelemetry/api (exemplars)
  { entry: 'metrics', exports: 'MetricsModule', uses: ['prom-client', OTEL], loads: ['prom-client'] },
  { entry: 'ratelimit', exports: 'RateLimitModule', uses: [], loads: ['ioredis'] },
  { entry: 'throttler', exports: 'RedisThrottlerStorage', uses: ['@nestjs/throttler'], loads: ['ioredis'] },
  { entry: 'testing', exports: 'startRedis', uses: [], loads: ['ioredis'], inRoot: false },
  { entry: 'schedule', exports: 'RedisScheduleModule', uses: [], loads: ['ioredis'] },
  { entry: 'admin', exports: 'AdminModule', uses: [], loads: ['ioredis'] },
];

/** The optional peers package.json declares: the consumer app uses every feature, so it installs them all. */
const OPTIONAL_PEERS = Object.keys(
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { peerDependenciesMeta: Record<string, unknown> })
    .peerDependenciesMeta,
);

interface PackResult {
  filename: string;
  files: { path: string }[];
}

interface ConsumerResult {
  format: string;
  exports: Record<string, string[]>;
  modules: string[];
  checks: Record<string, boolean>;
  health?: unknown;
}

/** The version of a package installed in this repository, so that the consumer gets the same one. */
function installedVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

async function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, {
      cwd,
      env: { ...process.env, npm_config_update_notifier: 'false', ...env },
      maxBuffer: 32 * 1024 * 1024,
      // npm pack (a build) and npm install of ~120 packages take minutes on a busy 2-core machine
      timeout: 240_000,
    });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** Type-checked as a CommonJS (.cts) and as an ES module (.mts) file: every entry, its classes and option types. */
const TYPES_CHECK = `import { Injectable, Module } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import { Keyv } from 'keyv';
import * as kit from 'nest-redis-kit';
import { RedisModule, RedisService, RedisUnavailableError, type RedisModuleOptions } from 'nest-redis-kit/redis';
import {
  CacheService,
  createRedisKeyv,
  RedisCacheModule,
  RedisKeyvStore,
  type RedisCacheModuleOptions,
} from 'nest-redis-kit/cache';
import { SessionModule, SessionUserLookup } from 'nest-redis-kit/session';
import { EventBus, MessagingModule, StreamConsumer } from 'nest-redis-kit/messaging';
import { RedisStreamsClient, RedisStreamsTransportModule, type RedisStreamsTransportOptions } from 'nest-redis-kit/transport';
import { LockModule, LockNotAcquiredError, LockService } from 'nest-redis-kit/lock';
import { MetricsModule } from 'nest-redis-kit/metrics';
import { RedisThrottlerStorage } from 'nest-redis-kit/throttler';
import { RateLimit, RateLimitModule, RateLimitService, type RateLimitModuleOptions } from 'nest-redis-kit/ratelimit';
import { startCluster, startRedis, type RedisTopology } from 'nest-redis-kit/testing';
import { RedisScheduleModule, Scheduled, type ScheduledTick } from 'nest-redis-kit/schedule';

const options: RedisModuleOptions = { url: 'redis://127.0.0.1:6379', keyPrefix: 'app:' };
const cacheOptions: RedisCacheModuleOptions = { defaultTtlMs: 30_000 };
const transportOptions: RedisStreamsTransportOptions = { service: 'orders', sendTo: 'inventory' };

interface User { id: number; name: string }

@Injectable()
class Users extends SessionUserLookup<User> {
  async validateCredentials(name: string): Promise<User | null> { return { id: 1, name }; }
  async findById(id: string): Promise<User | null> { return { id: Number(id), name: 'x' }; }
  getId(user: User): number { return user.id; }
}

@Injectable()
export class Orders {
  constructor(
    private readonly cache: CacheService,
    private readonly locks: LockService,
    private readonly bus: EventBus,
    private readonly store: RedisKeyvStore,
  ) {}

  price(sku: string): Promise<number> {
    return this.cache.getOrSet(\`price:\${sku}\`, async () => 10, { ttlMs: 60_000 });
  }

  reserve(sku: string): Promise<boolean> {
    return this.locks.using(\`stock:\${sku}\`, async () => true, { ttlMs: 5_000 });
  }

  notify(): Promise<unknown> {
    return this.bus.publish('orders', { id: 1 });
  }

  sessions(): Keyv {
    return new Keyv({ store: this.store.clone(), namespace: 'sessions' });
  }

  // keyv ships CommonJS and ES module declarations, and ours are CommonJS: in an ES module, name this type so.
  plain(): ReturnType<typeof createRedisKeyv> {
    return createRedisKeyv(this.store.clone(), 60_000);
  }

  @StreamConsumer({ stream: 'orders', group: 'billing' })
  async bill(payload: { id: number }): Promise<void> {
    void payload.id;
  }

  @Scheduled({ name: 'orders.expire', cron: '*/5 * * * *', timeZone: 'Europe/Paris', overlap: 'skip' })
  async expire(tick: ScheduledTick): Promise<void> {
    void tick.scheduledAt.getTime();
  }
}

@Module({
  imports: [
    RedisModule.forRoot(options),
    RedisCacheModule.forRoot(cacheOptions),
    SessionModule.forRoot({ secrets: ['0123456789abcdef0123'], userLookup: Users }),
    MessagingModule.forRoot({}),
    RedisStreamsTransportModule.forRoot(transportOptions),
    LockModule.forRoot({}),
    MetricsModule.forRoot(),
    RedisScheduleModule.forRoot({ runLeaseMs: 30_000 }),
  ],
  providers: [Orders, Users],
})
export class AppModule {}

export function storage(redis: RedisService): RedisThrottlerStorage {
  return new RedisThrottlerStorage(redis);
}

const limitOptions: RateLimitModuleOptions = { policies: { login: { algorithm: 'gcra', ratePerSec: 1, burst: 5 } } };
export const limitsModule = RateLimitModule.forRoot(limitOptions);

export class Search {
  constructor(private readonly limits: RateLimitService) {}

  @RateLimit({ algorithm: 'sliding-window', limit: 30, windowMs: 60_000, key: 'user' })
  async find(user: string): Promise<boolean> {
    return (await this.limits.consume('login', user, 2)).allowed;
  }
}

export const isDown = (err: unknown): boolean => err instanceof RedisUnavailableError;
export const reserve = (client: RedisStreamsClient): Promise<unknown> => firstValueFrom(client.send('inventory.reserve', {}));
export const isBusy = (err: unknown): boolean => err instanceof LockNotAcquiredError;
// The root re-exports the very same declarations.
export const sameCache: typeof kit.CacheService = CacheService;
export const sameModule: typeof RedisModule = kit.RedisModule;

// nest-redis-kit/testing: a topology's connection options are RedisModule options.
export async function testRedis(): Promise<{ redis: RedisTopology; options: RedisModuleOptions }> {
  const redis: RedisTopology = await startRedis();
  return { redis, options: { ...redis.connection, keyPrefix: 'test:' } };
}
export const onCluster = RedisModule.forRootAsync({ useFactory: async () => (await startCluster({ masters: 3 })).connection });
`;

describe('nest-redis-kit as an installed package (CommonJS, ES module and TypeScript consumers)', () => {
  let server: RedisServer;
  let work: string;
  let pack: PackResult;
  /** The shared install; the projects are folders below it. */
  let consumers: string;

  beforeAll(async () => {
    server = await startRedis();
    work = mkdtempSync(join(tmpdir(), 'nrk-consumer-'));
  });

  afterAll(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('packs dist/ with declarations and without tests, benchmarks, specs or the reference service', async () => {
    const stage = join(work, 'stage');
    mkdirSync(stage);
    // Compiled with the options of `nest build` (tsconfig.json), the reference service included, into a
    // staging copy of the package: only what src/index.ts and src/app/main.ts reach, so that files another
    // engineer has not finished yet do not break this test.
    const tsconfig = join(work, 'tsconfig.pack.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.json'),
        compilerOptions: {
          rootDir: join(ROOT, 'src'),
          outDir: join(stage, 'dist'),
          typeRoots: [join(ROOT, 'node_modules/@types')],
        },
        files: [join(ROOT, 'src/index.ts'), join(ROOT, 'src/testing/index.ts'), join(ROOT, 'src/app/main.ts')],
        include: [],
      }),
    );
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], ROOT);
    for (const f of ['package.json', 'README.md', 'LICENSE']) copyFileSync(join(ROOT, f), join(stage, f));
    const out = await run('npm', ['pack', stage, '--json', '--ignore-scripts', '--pack-destination', work], work);
    pack = (JSON.parse(out) as PackResult[])[0];
    const paths = pack.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'LICENSE',
        'dist/index.js',
        'dist/index.d.ts',
        ...ENTRIES.flatMap(({ entry }) => [`dist/${entry}/index.js`, `dist/${entry}/index.d.ts`]),
      ]),
    );
    expect(
      paths.filter((p) => /^(test|bench|src|scripts)\/|^dist\/app\/|\.spec\.|\.map$|\.ts$(?<!\.d\.ts)/.test(p)),
    ).toEqual([]);
    expect(paths.every((p) => /^(package\.json|README\.md|LICENSE|dist\/.+\.(js|d\.ts))$/.test(p))).toBe(true);

    // One npm install of the tarball and its peers, shared by the three projects below it.
    consumers = join(work, 'consumers');
    mkdirSync(consumers);
    writeFileSync(
      join(consumers, 'package.json'),
      JSON.stringify({ name: 'consumers', version: '1.0.0', private: true }),
    );
    const deps = [...PEERS, ...OPTIONAL_PEERS, ...APP_DEPS].map((p) => `${p}@${installedVersion(p)}`);
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        join(work, pack.filename),
        ...deps,
      ],
      consumers,
    );
  }, 480_000);

  /** Writes a project folder below the shared install: its package.json and files. */
  function project(name: string, type: 'commonjs' | 'module', files: Record<string, string>): string {
    const dir = join(consumers, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type }));
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    return dir;
  }

  /**
   * Runs a consumer app, against the harness server or (`ownRedis`) a redis-server it starts through
   * `nest-redis-kit/testing`; its RESULT line.
   */
  async function runApp(dir: string, file: string, prefix: string, ownRedis = false): Promise<ConsumerResult> {
    const env = ownRedis ? { REDIS_URL: '', KEY_PREFIX: prefix } : { REDIS_URL: server.url, KEY_PREFIX: prefix };
    const stdout = await run(process.execPath, [file], dir, env);
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line).toBeDefined();
    return JSON.parse(line!.slice('RESULT '.length)) as ConsumerResult;
  }

  it('a CommonJS and an ES module project each run a Nest app on every module, from the entries only', async () => {
    expect(consumers).toBeDefined();
    const body = readFileSync(join(__dirname, 'consumer/consumer-app.body.js'), 'utf8');
    const header = (file: string) => readFileSync(join(__dirname, 'consumer', file), 'utf8');
    const cjs = project('cjs', 'commonjs', { 'app.cjs': header('consumer-app.cjs') + body });
    const esm = project('esm', 'module', { 'app.js': header('consumer-app.mjs') + body });
    const prefixes = { cjs: uniquePrefix('consumer-cjs'), esm: uniquePrefix('consumer-esm') };
    const results = await Promise.all([
      runApp(cjs, 'app.cjs', prefixes.cjs),
      runApp(esm, 'app.js', prefixes.esm, true),
    ]);

    const inRoot = ENTRIES.filter((e) => e.inRoot !== false).map((e) => e.exports);
    const notInRoot = ENTRIES.filter((e) => e.inRoot === false).map((e) => e.exports);
    for (const result of results) {
      expect(result.exports.root).toEqual(expect.arrayContaining(inRoot));
      expect(result.exports.root.filter((name) => notInRoot.includes(name))).toEqual([]);
      for (const { entry, exports } of ENTRIES) expect(result.exports[entry]).toContain(exports);
      expect({ format: result.format, failed: Object.entries(result.checks).filter(([, ok]) => !ok) }).toEqual({
        format: result.format,
        failed: [],
      });
      expect(result.checks).toMatchObject({
        deepImportBlocked: true,
        deepRequireBlocked: true,
        oneCopyOfEachClass: true,
        redisRoundTrip: true,
        redisHealthy: true,
        cacheLoadsOnce: true,
        cacheManager: true,
        sessionLogin: true,
        sessionAuthenticates: true,
        sessionRefusesAnonymous: true,
        pubSub: true,
        streamConsumed: true,
        lockExclusive: true,
        throttled: true,
        metrics: true,
      });
    }
    expect(results.map((r) => r.format)).toEqual(['commonjs', 'module']);
    // The ES module app ran on its own server (nest-redis-kit/testing), found its key there, and stopped it.
    expect(results[1].checks).toMatchObject({ ownRedisHoldsTheData: true, ownRedisStopped: true });
    expect(results[0].checks.ownRedisStopped).toBeUndefined();
    // What the CommonJS app wrote is in the harness server, under its prefix; the ES module app's is not.
    const direct = server.client();
    try {
      expect(await direct.get(`${prefixes.cjs}consumer:k`)).toBe('v');
      expect(await direct.get(`${prefixes.esm}consumer:k`)).toBeNull();
    } finally {
      direct.disconnect();
    }
  }, 180_000);

  it('each subpath entry, loaded alone, loads its own feature and none of the others', async () => {
    expect(consumers).toBeDefined();
    const dir = project('load', 'commonjs', {
      'loaded-packages.cjs': readFileSync(join(__dirname, 'consumer/loaded-packages.cjs'), 'utf8'),
    });
    const loaded = await Promise.all(
      ENTRIES.map(async ({ entry }) => {
        const stdout = await run(process.execPath, ['loaded-packages.cjs', `nest-redis-kit/${entry}`], dir);
        const line = stdout.split('\n').find((l) => l.startsWith('LOADED '));
        return JSON.parse(line!.slice('LOADED '.length)) as string[];
      }),
    );
    // Every optional peer belongs to an entry that uses it.
    expect([...new Set(ENTRIES.flatMap((e) => e.uses))].sort()).toEqual([...OPTIONAL_PEERS].sort());
    // Messaging alone never loads the microservices package: only its transport entry does.
    expect(loaded[ENTRIES.findIndex((e) => e.entry === 'messaging')]).not.toContain('@nestjs/microservices');
    ENTRIES.forEach(({ entry, uses, loads }, i) => {
      const unwanted = OPTIONAL_PEERS.filter((p) => !uses.includes(p) && loaded[i].includes(p));
      expect({ entry, loads: loads.filter((p) => loaded[i].includes(p)), unwanted }).toEqual({
        entry,
        loads,
        unwanted: [],
      });
    });
  }, 120_000);

  it('a strict TypeScript project (nodenext) type-checks CommonJS and ES module code against every entry', async () => {
    expect(consumers).toBeDefined();
    const dir = project('ts', 'module', { 'types-check.cts': TYPES_CHECK, 'types-check.mts': TYPES_CHECK });
    await run(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--experimentalDecorators',
        '--emitDecoratorMetadata',
        '--typeRoots',
        join(ROOT, 'node_modules/@types'),
        '--types',
        'node',
        'types-check.cts',
        'types-check.mts',
      ],
      dir,
    );
  }, 120_000);
});
