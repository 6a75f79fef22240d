/**
 * A consumer process for the crash test: `node -r ./scripts/swc-register.cjs crash-consumer.fixture.ts <redisUrl> <keyPrefix>`.
 * Handles `jobs` in group `workers` slowly; each handled message is recorded in Redis (SADD applied, HINCRBY deliveries).
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RedisModule, RedisService } from '../../src/redis';
import { MessagingModule, StreamConsumer } from '../../src/messaging';

const [url, keyPrefix] = process.argv.slice(2);

@Injectable()
class SlowJobs {
  constructor(private readonly redis: RedisService) {}

  @StreamConsumer({ stream: 'jobs', group: 'workers', concurrency: 2, batchSize: 20, blockMs: 200, claimIdleMs: 1_000 })
  async handle(payload: { n: number }): Promise<void> {
    await new Promise((r) => setTimeout(r, 50));
    const client = this.redis.getClient();
    await client.hincrby(`${keyPrefix}deliveries`, String(payload.n), 1);
    await client.sadd(`${keyPrefix}applied`, String(payload.n));
  }
}

@Module({
  imports: [RedisModule.forRoot({ url, keyPrefix }), MessagingModule.forRoot({ consumerName: `child-${process.pid}` })],
  providers: [SlowJobs],
})
class CrashConsumerModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(CrashConsumerModule, { logger: ['error'] });
  app.enableShutdownHooks();
  process.stdout.write('ready\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
