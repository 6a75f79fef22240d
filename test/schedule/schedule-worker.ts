/**
 * A separate instance for the schedule tests: boots RedisModule + RedisScheduleModule with one job, `every-second`
 * (everyMs 1000), and prints `READY` once started, then `RUN <tick ms>` for each run it makes, until it is killed.
 * Run with `node -r scripts/swc-register.cjs test/schedule/schedule-worker.ts` and env KEY_PREFIX, REDIS_URL or
 * REDIS_CLUSTER_NODES (host:port,...), optional SKEW_MS (this instance's clock is ahead by that much),
 * RUN_LEASE_MS.
 */
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RedisModule, RedisScheduleModule, ScheduleClock, Scheduled, type ScheduledTick } from '../../src';

@Injectable()
class EverySecond {
  @Scheduled({ name: 'every-second', everyMs: 1_000 })
  tick(tick: ScheduledTick): void {
    process.stdout.write(`RUN ${tick.scheduledAt.getTime()}\n`);
  }
}

async function main(): Promise<void> {
  const env = process.env;
  const connection = env.REDIS_CLUSTER_NODES
    ? {
        nodes: env.REDIS_CLUSTER_NODES.split(',').map((hostPort) => {
          const [host, port] = hostPort.split(':');
          return { host, port: Number(port) };
        }),
      }
    : { url: env.REDIS_URL as string };
  const skewMs = Number(env.SKEW_MS ?? 0);
  const ref = await Test.createTestingModule({
    imports: [
      RedisModule.forRoot({ ...connection, keyPrefix: env.KEY_PREFIX as string }),
      RedisScheduleModule.forRoot({ runLeaseMs: Number(env.RUN_LEASE_MS ?? 2_000) }),
    ],
    providers: [EverySecond],
  })
    .overrideProvider(ScheduleClock)
    .useValue({ now: () => Date.now() + skewMs })
    .compile();
  ref.useLogger(['error']);
  await ref.init();
  process.stdout.write('READY\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
