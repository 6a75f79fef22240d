/**
 * A separate service process for the lock tests: boots RedisModule + LockModule, runs COUNT concurrent
 * non-atomic increments (GET, pause, SET) of KEY under the lock `RESOURCE`, prints one JSON line, exits.
 * Run with `node -r scripts/swc-register.cjs test/lock/lock-worker.ts` and env REDIS_URL, KEY_PREFIX,
 * KEY, RESOURCE, COUNT, optional LOCK_NODES (comma-separated URLs).
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LockModule, LockService, RedisModule, RedisService } from '../../src';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

@Module({
  imports: [
    RedisModule.forRoot({ url: env('REDIS_URL'), keyPrefix: env('KEY_PREFIX') }),
    LockModule.forRoot({ nodes: process.env.LOCK_NODES?.split(','), retryDelayMs: 20, jitterMs: 10 }),
  ],
})
class WorkerModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: ['error'] });
  const locks = app.get(LockService);
  const client = app.get(RedisService).getClient();
  const key = env('KEY');
  const count = Number(env('COUNT'));
  const fences: number[] = [];
  await Promise.all(
    Array.from({ length: count }, () =>
      locks.using(
        env('RESOURCE'),
        async (_signal, lock) => {
          const v = Number((await client.get(key)) ?? 0);
          await new Promise((r) => setTimeout(r, Math.random() * 2));
          await client.set(key, String(v + 1));
          fences.push(lock.fence);
        },
        { ttlMs: 2_000, waitMs: 60_000 },
      ),
    ),
  );
  process.stdout.write(`${JSON.stringify({ done: count, fences, stats: locks.stats })}\n`);
  await app.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
