'use strict';
/**
 * A tiny Nest application of "another project": plain CommonJS, installed from the packed tarball,
 * importing nest-redis-kit through its package entry only. Run by test/consumer.e2e-spec.ts in a
 * temporary folder outside the repository. Prints one line `RESULT <json>` and exits 0, or exits 1.
 *
 * env: REDIS_URL (harness redis-server), KEY_PREFIX (unique per run)
 */
require('reflect-metadata');
const { Module, Injectable, Inject } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const kit = require('nest-redis-kit');

const url = process.env.REDIS_URL;
const keyPrefix = process.env.KEY_PREFIX;
const result = { exports: Object.keys(kit).sort(), modules: [], checks: {} };

/** Decorators without TypeScript: what `@Injectable()` and `@Inject(token)` on constructor parameters do. */
function injectable(cls, ...tokens) {
  Injectable()(cls);
  tokens.forEach((token, index) => Inject(token)(cls, undefined, index));
  return cls;
}

class RedisProbe {
  constructor(redis, client, health) {
    this.redis = redis;
    this.client = client;
    this.health = health;
  }
}
injectable(RedisProbe, kit.RedisService, kit.getRedisClientToken(kit.DEFAULT_REDIS_CLIENT), kit.RedisHealthIndicator);

async function main() {
  // The package exposes its entry only: deep imports into dist/ are refused by "exports".
  try {
    require('nest-redis-kit/dist/redis/redis.service');
    result.checks.deepImportBlocked = false;
  } catch (err) {
    result.checks.deepImportBlocked = err.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED';
  }

  const imports = [kit.RedisModule.forRoot({ url, keyPrefix })];
  result.modules.push('RedisModule');
  const providers = [RedisProbe];

  class AppModule {}
  Module({ imports, providers })(AppModule);

  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  await app.init();
  try {
    // RedisModule: shared client, key prefix, health of every connection.
    const probe = app.get(RedisProbe);
    const key = `${probe.redis.prefixFor('consumer')}k`;
    await probe.client.set(key, 'v', 'PX', 60_000);
    result.checks.redisRoundTrip = (await probe.client.get(key)) === 'v';
    result.checks.prefix = key.startsWith(keyPrefix);
    const health = await probe.health.isHealthy('redis');
    result.checks.redisHealthy = health.redis.status === 'up';
  } finally {
    await app.close();
  }
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`consumer app failed: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
