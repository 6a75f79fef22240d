/**
 * The package as another project gets it: the library is compiled like `nest build` does, packed
 * with `npm pack` (package.json "files" decide what goes in), installed into a fresh project in a
 * temporary folder outside the repository together with its peer dependencies, and used there by a
 * tiny plain-JS Nest app (test/consumer/consumer-app.cjs) through the package entry only, against a
 * real redis-server. A TypeScript file in that project is type-checked against the shipped declarations.
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
const PEERS = ['@nestjs/common', '@nestjs/core', 'ioredis', 'reflect-metadata', 'rxjs'];
/** What a Nest HTTP application has anyway (sessions need an HTTP server). */
const APP_DEPS = ['@nestjs/platform-express'];
/** Feature modules the package must export; the consumer app uses each one it finds. */
const FEATURE_MODULES = [
  'RedisModule',
  'RedisCacheModule',
  'SessionModule',
  'MessagingModule',
  'LockModule',
  'MetricsModule',
];

interface PackResult {
  filename: string;
  files: { path: string }[];
}

interface ConsumerResult {
  exports: string[];
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
      timeout: 120_000,
    });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

const TYPES_CHECK = `import { Injectable, Module } from '@nestjs/common';
import {
  CacheService,
  LockModule,
  LockService,
  MessagingModule,
  MetricsModule,
  RedisCacheModule,
  RedisModule,
  RedisService,
  RedisUnavailableError,
  SessionModule,
  SessionUserLookup,
  StreamConsumer,
  type RedisModuleOptions,
} from 'nest-redis-kit';

const options: RedisModuleOptions = { url: 'redis://127.0.0.1:6379', keyPrefix: 'app:' };

interface User { id: number; name: string }

@Injectable()
class Users extends SessionUserLookup<User> {
  async validateCredentials(name: string): Promise<User | null> { return { id: 1, name }; }
  async findById(id: string): Promise<User | null> { return { id: Number(id), name: 'x' }; }
  getId(user: User): number { return user.id; }
}

@Injectable()
export class Orders {
  constructor(private readonly cache: CacheService, private readonly locks: LockService) {}

  price(sku: string): Promise<number> {
    return this.cache.getOrSet(\`price:\${sku}\`, async () => 10, { ttlMs: 60_000 });
  }

  reserve(sku: string): Promise<boolean> {
    return this.locks.using(\`stock:\${sku}\`, async () => true, { ttlMs: 5_000 });
  }

  @StreamConsumer({ stream: 'orders', group: 'billing' })
  async bill(payload: { id: number }): Promise<void> {
    void payload.id;
  }
}

@Module({
  imports: [
    RedisModule.forRoot(options),
    RedisCacheModule.forRoot({ defaultTtlMs: 30_000 }),
    SessionModule.forRoot({ secrets: ['0123456789abcdef0123'], userLookup: Users }),
    MessagingModule.forRoot({}),
    LockModule.forRoot({}),
    MetricsModule.forRoot(),
  ],
  providers: [Orders, Users],
})
export class AppModule {}

export function prefix(redis: RedisService): string {
  return redis.prefixFor('cache');
}

export const isDown = (err: unknown): boolean => err instanceof RedisUnavailableError;
`;

describe('nest-redis-kit as an installed package', () => {
  let server: RedisServer;
  let work: string;
  let pack: PackResult;

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
        files: [join(ROOT, 'src/index.ts'), join(ROOT, 'src/app/main.ts')],
        include: [],
      }),
    );
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], ROOT);
    for (const f of ['package.json', 'README.md', 'LICENSE']) copyFileSync(join(ROOT, f), join(stage, f));
    const out = await run('npm', ['pack', stage, '--json', '--ignore-scripts', '--pack-destination', work], work);
    pack = (JSON.parse(out) as PackResult[])[0];
    const paths = pack.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']),
    );
    expect(
      paths.filter((p) => /^(test|bench|src|scripts)\/|^dist\/app\/|\.spec\.|\.map$|\.ts$(?<!\.d\.ts)/.test(p)),
    ).toEqual([]);
    expect(paths.every((p) => /^(package\.json|README\.md|LICENSE|dist\/.+\.(js|d\.ts))$/.test(p))).toBe(true);
  }, 120_000);

  it('installs into a fresh project and runs a Nest app using every module through the package entry', async () => {
    expect(pack).toBeDefined();
    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2),
    );
    const peers = [...PEERS, ...APP_DEPS].map((p) => `${p}@${installedVersion(p)}`);
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        join(work, pack.filename),
        ...peers,
      ],
      project,
    );

    copyFileSync(join(__dirname, 'consumer/consumer-app.cjs'), join(project, 'app.cjs'));
    const prefix = uniquePrefix('consumer');
    const stdout = await run(process.execPath, ['app.cjs'], project, { REDIS_URL: server.url, KEY_PREFIX: prefix });
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line).toBeDefined();
    const result = JSON.parse(line!.slice('RESULT '.length)) as ConsumerResult;

    expect(result.exports).toEqual(expect.arrayContaining(FEATURE_MODULES));
    expect(result.modules).toEqual(expect.arrayContaining(FEATURE_MODULES));
    expect({ failed: Object.entries(result.checks).filter(([, ok]) => !ok), health: result.health }).toMatchObject({
      failed: [],
    });
    expect(result.checks).toMatchObject({
      deepImportBlocked: true,
      redisRoundTrip: true,
      redisHealthy: true,
      cacheLoadsOnce: true,
      sessionLogin: true,
      sessionAuthenticates: true,
      sessionRefusesAnonymous: true,
      pubSub: true,
      streamConsumed: true,
      lockExclusive: true,
      metrics: true,
    });

    // What the app wrote is in the harness server, under its prefix.
    const direct = server.client();
    expect(await direct.get(`${prefix}consumer:k`)).toBe('v');
    direct.disconnect();

    // The shipped declarations type-check in a strict TypeScript consumer (nodenext resolution, package "exports").
    writeFileSync(join(project, 'types-check.ts'), TYPES_CHECK);
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
        'types-check.ts',
      ],
      project,
    );
  }, 180_000);
});
