/**
 * Benchmark `peers` (`npm run bench -- peers`): every feature against the package people would use instead, measured
 * in one process on one private redis-server, ours and the peer in alternating rounds; ratio = ours / peer, the
 * median of the per-round ratios (memory: bytes per message, lower is better).
 *
 *   streams    StreamProducer → @StreamConsumer        vs BullMQ Queue.add → Worker (+ Redis memory per message)
 *   delayed    10,000 due at once: add({ at }) → drain  vs BullMQ delayed jobs → Worker (target 2.0)
 *   pub/sub    EventBus → @OnMessage                   vs @nestjs/microservices Transport.REDIS emit → @EventPattern
 *   transport  our microservice transport emit / send  vs Transport.REDIS (+ send p99); emit vs BullMQ
 *   cache      CACHE_MANAGER on our store, get / set   vs @keyv/redis through cache-manager 7 (1, 16, 50 callers)
 *   throttler  RedisThrottlerStorage.increment         vs @nest-lab/throttler-storage-redis (1, 50 callers, blocked)
 *   ratelimit  RateLimiter.consume, each algorithm      vs @nest-lab/throttler-storage-redis increment (1, 50 callers)
 *   lock       LockService acquire + release, using()  vs redis-semaphore Mutex; vs @sesamecare-oss/redlock
 *   session    GET /auth/me on RedisSessionStore       vs connect-redis 8.1
 *
 * One feature at a time is set up (bench/peers/<feature>.peer.ts), measured and torn down. Targets: ratio >= 1.0,
 * messaging rows >= 3.0 (transport vs Transport.REDIS: emit 2.0, send 1.5, p99 <= 1.0), rate-limit decisions >= 1.1,
 * memory <= 1.0. Prints one table, then the ceilings (the same round trips sent bare on a plain ioredis client, vs
 * the peer: what no implementation could beat), and writes bench/results/peers.json. A missed target is reported as FAIL but exits
 * 0, unless BENCH_STRICT=1 (then it exits 1); an error always exits 1.
 * BENCH_CPU_PLACEMENT (bench/support/cpu-placement.ts): by default the bench runs on core 0 and redis-server on core 1
 * (`split`), so the scheduler cannot move Redis between runs; `shared` or `free` for the other placements.
 * BENCH_DURATION_MS (default 5000) is each side's measuring time per row (10 rounds); BENCH_ONLY=cache,lock runs
 * some features only. The default run takes about 5 minutes.
 */
import { cpus, loadavg } from 'node:os';
import { startRedis } from '../test/support/redis-harness';
import { cpuPlacementFromEnv, placeCpus } from './support/cpu-placement';
import { writeReport, type BenchOptions, type BenchReport, type BenchRow } from './support/bench-runner';
import { cachePeers } from './peers/cache.peer';
import { delayedPeers } from './peers/delayed.peer';
import { lockPeers } from './peers/lock.peer';
import { measureCase, measureCeiling, printPeerTable, type PeerGroup, type PeerRow } from './peers/peer-suite';
import { pubsubPeers } from './peers/pubsub.peer';
import { ratelimitPeers } from './peers/ratelimit.peer';
import { sessionPeers } from './peers/session.peer';
import { streamsPeers } from './peers/streams.peer';
import { throttlerPeers } from './peers/throttler.peer';
import { transportPeers } from './peers/transport.peer';

const GROUPS: PeerGroup[] = [
  streamsPeers,
  delayedPeers,
  pubsubPeers,
  transportPeers,
  cachePeers,
  throttlerPeers,
  ratelimitPeers,
  lockPeers,
  sessionPeers,
];

async function main(): Promise<number> {
  const durationMs = Number(process.env.BENCH_DURATION_MS ?? 5000);
  const options: Required<BenchOptions> = {
    concurrency: 50,
    rounds: 10,
    durationMs,
    warmupMs: Math.min(1000, durationMs / 10),
  };
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const started = Date.now();
  const server = await startRedis();
  const placement = placeCpus(server.pid ? cpuPlacementFromEnv() : 'free', server.pid ?? 0);
  console.log(`peers: ${placement.description}`);
  const rows: PeerRow[] = [];
  const ceilings: PeerRow[] = [];
  try {
    for (const group of GROUPS) {
      if (only && !only.includes(group.name)) continue;
      console.log(`peers: ${group.name}...`);
      const setup = await group.setup(server);
      try {
        for (const c of setup.cases) rows.push(await measureCase(group.name, c, options));
        rows.push(...((await setup.measured?.()) ?? []));
        for (const c of setup.ceilings ?? []) ceilings.push(await measureCeiling(group.name, c, options));
      } finally {
        await setup.teardown();
      }
    }
  } finally {
    placement.release();
    await server.stop();
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  const load = loadavg().map((l) => l.toFixed(2));
  printPeerTable(
    rows,
    `bench peers: ours / peer, median of ${options.rounds} alternating rounds, ${durationMs} ms per side and row; ` +
      `${seconds} s in all; Node ${process.version}, ${cpus().length} cores, ${placement.description}, ` +
      `load average ${load.join(' ')}`,
  );
  if (ceilings.length > 0) {
    printPeerTable(
      ceilings,
      'ceilings: the same round trips sent bare on a plain ioredis client / the peer (the most any implementation ' +
        'doing that Redis work can score)',
    );
  }
  const report: BenchReport & { loadAverage: string[]; cpuPlacement: string; rows: PeerRow[]; ceilings: PeerRow[] } = {
    name: 'peers',
    durationMs,
    concurrency: options.concurrency,
    loadAverage: load,
    cpuPlacement: placement.description,
    // The shared report shape (ours as opsPerSec, the peer as baselineOpsPerSec) plus the full rows.
    cases: rows.map((r): BenchRow => ({
      case: `${r.group}: ${r.case} (${r.callers})`,
      opsPerSec: r.ours ?? 0,
      p50Ms: null,
      p99Ms: null,
      baselineOpsPerSec: r.peer,
      ratio: r.ratio,
      target: r.target,
      ...(r.pass === null ? {} : { pass: r.pass }),
    })),
    rows,
    ceilings,
  };
  console.log(`\nwrote ${writeReport(report)}`);
  const failed = rows.filter((r) => r.pass === false);
  if (failed.length === 0) return 0;
  const strict = process.env.BENCH_STRICT === '1';
  console.log(
    `${failed.length} of ${rows.length} rows miss their target` +
      (strict ? ' (BENCH_STRICT=1: exit 1)' : ' (reported only; BENCH_STRICT=1 makes it exit 1)'),
  );
  return strict ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
