/**
 * The cluster-wide schedule against real Redis: several instances (Nest apps in this process, one in a child process
 * that is SIGKILLed), clocks skewed between them, each tick run by exactly one instance; the overlap policies (skip,
 * wait) across instances; a failing job keeps its schedule; Redis down skips ticks and the schedule resumes on an
 * empty Redis; missed ticks at startup. Topology-aware (on a cluster, every node is killed).
 */
import { Inject, Injectable, type LoggerService, type Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  RedisModule,
  RedisScheduleModule,
  ScheduleClock,
  ScheduleService,
  Scheduled,
  sleep,
  type RedisScheduleModuleOptions,
  type ScheduledOptions,
  type ScheduledTick,
} from '../src';
import { ScheduleMetrics } from '../src/schedule/schedule.metrics';
import { startTestRedis, uniquePrefix, type TestRedis } from './support/redis-harness';

/** One run, as the jobs below record it. */
interface Run {
  job: string;
  tick: number;
  instance: string;
  startedAt: number;
  endedAt?: number;
  catchUp: boolean;
}

const INSTANCE = 'schedule-test:instance';
let runs: Run[] = [];

/** Records a run of `job` on `instance`; returns it (to set `endedAt`). */
function record(job: string, instance: string, tick: ScheduledTick): Run {
  const run = { job, tick: tick.scheduledAt.getTime(), instance, startedAt: Date.now(), catchUp: tick.catchUp };
  runs.push(run);
  return run;
}

/** A provider with one `@Scheduled` method (`options`) that records each run of the job, then does `body`. */
function jobClass(options: ScheduledOptions, body: (run: Run) => unknown = () => undefined): Type {
  @Injectable()
  class Job {
    constructor(@Inject(INSTANCE) private readonly instance: string) {}
    @Scheduled(options)
    tick(tick: ScheduledTick): unknown {
      return body(record(options.name, this.instance, tick));
    }
  }
  return Job;
}

/** Waits `ms`, then notes the end of the run. */
const lasting = (ms: number) => async (run: Run) => {
  await sleep(ms);
  run.endedAt = Date.now();
};

/**
 * Waits `beforeMs`, then blocks this whole process (every in-process instance: no timer fires, no reply is read) for
 * `stallMs`, as a long GC pause or a CPU-bound step would, then waits `afterMs` and notes the end of the run.
 */
const stalling = (beforeMs: number, stallMs: number, afterMs: number) => async (run: Run) => {
  await sleep(beforeMs);
  const until = Date.now() + stallMs;
  while (Date.now() < until) {
    // the event loop is stalled
  }
  await sleep(afterMs);
  run.endedAt = Date.now();
};

const EverySecond = jobClass({ name: 'every-second', everyMs: 1_000 });
const SlowSkip = jobClass({ name: 'slow-skip', everyMs: 1_000, overlap: 'skip' }, lasting(2_500));
const SlowWait = jobClass({ name: 'slow-wait', everyMs: 1_000, overlap: 'wait' }, lasting(1_500));
// 2.3 s runs with a 900 ms stall, under a 600 ms run lease: the lease lapses in every run while a tick waits.
const StalledWait = jobClass({ name: 'stalled-wait', everyMs: 1_000, overlap: 'wait' }, stalling(1_200, 900, 200));
const Failing = jobClass({ name: 'failing', everyMs: 1_000 }, () => Promise.reject(new Error('the job failed')));

@Injectable()
class Missed {
  constructor(@Inject(INSTANCE) private readonly instance: string) {}
  @Scheduled({ name: 'missed-once', everyMs: 2_000, missed: 'run-once' })
  once(tick: ScheduledTick): void {
    record('missed-once', this.instance, tick);
  }
  @Scheduled({ name: 'missed-skip', everyMs: 2_000, missed: 'skip' })
  skip(tick: ScheduledTick): void {
    record('missed-skip', this.instance, tick);
  }
}

/** A logger keeping every line, to read the schedule's warnings. */
function linesLogger(): { lines: string[]; logger: LoggerService } {
  const lines: string[] = [];
  const keep = (level: string) => (message: unknown) => void lines.push(`${level} ${String(message)}`);
  return {
    lines,
    logger: { log: keep('log'), warn: keep('warn'), error: keep('error'), debug: keep('debug'), verbose: keep('v') },
  };
}

const ofJob = (job: string) => runs.filter((r) => r.job === job);

/** The ticks of `list`, sorted. */
const ticksOf = (list: Run[]) => list.map((r) => r.tick).sort((a, b) => a - b);

/** Ticks between the first and the last that nobody ran (1 s period). */
function gaps(ticks: number[], periodMs = 1_000): number[] {
  const missing: number[] = [];
  for (let i = 1; i < ticks.length; i++) {
    for (let t = ticks[i - 1] + periodMs; t < ticks[i]; t += periodMs) missing.push(t);
  }
  return missing;
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('RedisScheduleModule', () => {
  let redis: TestRedis;
  const apps: TestingModule[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
  }, 60_000);
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await Promise.all(apps.splice(0).map((app) => app.close()));
    runs = [];
  });
  afterAll(async () => {
    await redis?.stop();
  });

  /** One application instance: `jobs` providers under `keyPrefix`, its clock `skewMs` ahead. */
  async function instance(
    name: string,
    keyPrefix: string,
    jobs: Type[],
    options: { skewMs?: number; schedule?: RedisScheduleModuleOptions; logger?: LoggerService } = {},
  ): Promise<TestingModule> {
    const builder = Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ ...redis.connection, keyPrefix }),
        RedisScheduleModule.forRoot({ runLeaseMs: 2_000, ...options.schedule }),
      ],
      providers: [...jobs, { provide: INSTANCE, useValue: name }],
    });
    const skewMs = options.skewMs ?? 0;
    if (skewMs !== 0) builder.overrideProvider(ScheduleClock).useValue({ now: () => Date.now() + skewMs });
    const app = await builder.compile();
    app.useLogger(options.logger ?? false);
    await app.init();
    apps.push(app);
    return app;
  }

  /** The child-process instance: resolves once it has started; its runs land in `runs` as instance `child`. */
  async function childInstance(keyPrefix: string, skewMs: number): Promise<ChildProcess> {
    const child = spawn(
      process.execPath,
      ['-r', join(__dirname, '../scripts/swc-register.cjs'), join(__dirname, 'schedule/schedule-worker.ts')],
      {
        env: { ...process.env, ...redis.env, KEY_PREFIX: keyPrefix, SKEW_MS: String(skewMs), RUN_LEASE_MS: '600' },
        stdio: 'pipe',
      },
    );
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`worker exited (${code}): ${stderr}`)));
      child.stdout?.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() as string;
        for (const line of lines) {
          if (line === 'READY') resolve();
          const [word, tick] = line.split(' ');
          if (word === 'RUN') {
            runs.push({
              job: 'every-second',
              tick: Number(tick),
              instance: 'child',
              startedAt: Date.now(),
              catchUp: false,
            });
          }
        }
      });
    });
    child.removeAllListeners('exit');
    return child;
  }

  it('three instances, clocks up to 1.5 s apart, a 1 s job for 10 s: one run per tick; the SIGKILLed one is relieved', async () => {
    const keyPrefix = uniquePrefix('sched');
    // The child's clock is ahead: it claims the ticks while it lives. One in-process clock is behind.
    const child = await childInstance(keyPrefix, 400);
    await instance('a', keyPrefix, [EverySecond]);
    await instance('b', keyPrefix, [EverySecond], { skewMs: -1_500 });
    runs = [];
    const t0 = Date.now();
    await sleep(5_000);
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await sleep(5_000);
    const inWindow = ofJob('every-second').filter((r) => r.startedAt >= t0 && r.startedAt < t0 + 10_000);
    const all = ticksOf(ofJob('every-second'));
    // Ticks from t0 on (a run of an earlier tick may be reported after the reset above).
    const ticks = all.filter((tick) => tick >= t0);

    expect(new Set(all).size).toBe(all.length); // never two runs for one tick
    // No tick skipped, except at most the one the child may have claimed just before it was killed (at most once:
    // a claimed tick is never run again). Its short run lease (600 ms) does not hold the next tick.
    const missing = gaps(ticks);
    expect(missing.length).toBeLessThanOrEqual(1);
    for (const tick of missing) expect(Math.abs(tick - killedAt)).toBeLessThan(1_500);
    expect(inWindow.length).toBeGreaterThanOrEqual(9);
    expect(inWindow.length).toBeLessThanOrEqual(11);
    expect(inWindow.filter((r) => r.instance === 'child').length).toBeGreaterThan(0);
    expect(inWindow.filter((r) => r.instance !== 'child' && r.startedAt > killedAt).length).toBeGreaterThanOrEqual(3);
    // Each tick's claim in Redis names the instance that ran it.
    const claims = await redis.keys(`${keyPrefix}schedule:{every-second}:tick:*`);
    expect(claims.length).toBeGreaterThanOrEqual(ticks.length);
  }, 60_000);

  it('overlap skip: a tick that comes while another instance still runs the job is skipped and counted', async () => {
    const keyPrefix = uniquePrefix('sched');
    const a = await instance('a', keyPrefix, [SlowSkip]);
    const b = await instance('b', keyPrefix, [SlowSkip]);
    await sleep(6_500);
    await Promise.all(apps.splice(0).map((app) => app.close())); // waits for the runs in progress
    const list = ofJob('slow-skip').sort((x, y) => x.startedAt - y.startedAt);

    expect(list.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < list.length; i++) expect(list[i].startedAt).toBeGreaterThanOrEqual(list[i - 1].endedAt ?? 0);
    const skipped = a.get(ScheduleService).stats.skipped + b.get(ScheduleService).stats.skipped;
    expect(skipped).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('overlap wait: the tick runs once the previous run ended, never alongside it', async () => {
    const keyPrefix = uniquePrefix('sched');
    await instance('a', keyPrefix, [SlowWait]);
    await instance('b', keyPrefix, [SlowWait]);
    await sleep(6_500);
    await Promise.all(apps.splice(0).map((app) => app.close()));
    const list = ofJob('slow-wait').sort((x, y) => x.startedAt - y.startedAt);

    expect(list.length).toBeGreaterThanOrEqual(3);
    expect(new Set(list.map((r) => r.tick)).size).toBe(list.length);
    for (let i = 1; i < list.length; i++) expect(list[i].startedAt).toBeGreaterThanOrEqual(list[i - 1].endedAt ?? 0);
    // Waited: a tick that came during a run started when that run ended, well after its own time.
    expect(list.some((r) => r.startedAt - r.tick >= 300)).toBe(true);
  }, 30_000);

  it('overlap wait: a run outliving its lease through a stall longer than the lease is never joined by the next', async () => {
    const keyPrefix = uniquePrefix('sched');
    const { lines, logger } = linesLogger();
    const schedule = { runLeaseMs: 600 };
    await instance('a', keyPrefix, [StalledWait], { logger, schedule });
    await instance('b', keyPrefix, [StalledWait], { logger, schedule });
    await sleep(6_500);
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await waitFor('the runs in progress to end', () => ofJob('stalled-wait').every((r) => r.endedAt), 5_000);
    const list = ofJob('stalled-wait').sort((x, y) => x.startedAt - y.startedAt);

    expect(list.length).toBeGreaterThanOrEqual(2);
    expect(new Set(list.map((r) => r.tick)).size).toBe(list.length);
    for (let i = 1; i < list.length; i++) expect(list[i].startedAt).toBeGreaterThanOrEqual(list[i - 1].endedAt ?? 0);
    // The queued tick found the lease lapsed after the stall, and the running instance took it back.
    expect(lines.some((l) => l.includes('run lease had lapsed') && l.includes('taken back'))).toBe(true);
    expect(lines.filter((l) => l.includes('run lease lost'))).toEqual([]);
  }, 30_000);

  it('a failing job is logged and counted, and keeps its schedule', async () => {
    const keyPrefix = uniquePrefix('sched');
    const { lines, logger } = linesLogger();
    const app = await instance('a', keyPrefix, [Failing], { logger });
    await waitFor('three failed runs', () => ofJob('failing').length >= 3, 10_000);
    const schedule = app.get(ScheduleService);

    expect(gaps(ticksOf(ofJob('failing')))).toEqual([]);
    expect(schedule.stats.failures).toBeGreaterThanOrEqual(3);
    expect(schedule.stats.runs).toBe(schedule.stats.failures);
    expect(lines.filter((l) => l.startsWith('error Job "failing" failed')).length).toBeGreaterThanOrEqual(3);
    const [job] = schedule.jobs();
    expect(job).toMatchObject({ name: 'failing', trigger: 'every 1000 ms', running: false, lastResult: 'failed' });
    expect(job.lastError).toEqual(expect.any(String));
    expect(job.nextRunAt).toBeGreaterThan(Date.now() - 1_000);

    // The metrics provider reads the same counters, and the per-job gauges.
    const metrics = app.get(ScheduleMetrics).metrics();
    const read = async (name: string) => metrics.find((m) => m.name === name)?.collect();
    expect(await read('schedule_failures_total')).toBeGreaterThanOrEqual(3);
    expect(await read('schedule_next_run_timestamp_seconds')).toEqual([
      { labels: { job: 'failing' }, value: expect.any(Number) as number },
    ]);
    expect(await read('schedule_last_duration_seconds')).toHaveLength(1);
  }, 30_000);

  it('Redis down: ticks are skipped with one warning, never run unclaimed; the schedule resumes on an empty Redis', async () => {
    const keyPrefix = uniquePrefix('sched');
    const { lines, logger } = linesLogger();
    const a = await instance('a', keyPrefix, [EverySecond], { logger, schedule: { commandTimeoutMs: 300 } });
    // Nest's logger is process-wide: both instances write to `lines`.
    await instance('b', keyPrefix, [EverySecond], { logger, skewMs: 300, schedule: { commandTimeoutMs: 300 } });
    await waitFor('two runs', () => ofJob('every-second').length >= 2, 10_000);

    await redis.kill();
    const downAt = Date.now();
    await sleep(3_000);
    const duringOutage = ofJob('every-second').filter((r) => r.startedAt > downAt + 200);
    const skippedWhileDown = a.get(ScheduleService).stats.unavailable;
    await redis.start();
    const upAt = Date.now();
    await waitFor(
      'runs after the restart',
      () => ofJob('every-second').some((r) => r.startedAt > upAt + 1_000),
      20_000,
    );
    await sleep(2_000);

    expect(duringOutage).toEqual([]);
    expect(skippedWhileDown).toBeGreaterThanOrEqual(1);
    // One warning per instance for the whole outage, and one line when it ends.
    expect(lines.filter((l) => l.startsWith('warn Redis unavailable for the schedule')).length).toBe(2);
    expect(lines.filter((l) => l.startsWith('log Redis is back for the schedule')).length).toBe(2);
    const ticks = ticksOf(ofJob('every-second'));
    expect(new Set(ticks).size).toBe(ticks.length); // Redis restarted empty: still no tick twice
    const after = ticksOf(ofJob('every-second').filter((r) => r.startedAt > upAt + 1_000));
    expect(gaps(after)).toEqual([]);
  }, 60_000);

  it('Redis frozen: ticks skipped after commandTimeoutMs; claims Redis carries out late hold no lease afterwards', async () => {
    const keyPrefix = uniquePrefix('sched');
    // A long run lease: a claim carried out after the freeze, with nobody running it, would hold the job 15 s.
    const schedule = { commandTimeoutMs: 300, runLeaseMs: 15_000 };
    const a = await instance('a', keyPrefix, [EverySecond], { schedule });
    await instance('b', keyPrefix, [EverySecond], { skewMs: 300, schedule });
    await waitFor('two runs', () => ofJob('every-second').length >= 2, 10_000);

    redis.pause();
    const frozenAt = Date.now();
    await sleep(2_500);
    redis.resume();
    const resumedAt = Date.now();
    await waitFor('runs after the freeze', () => ofJob('every-second').some((r) => r.startedAt > resumedAt), 5_000);
    await sleep(2_000);

    expect(ofJob('every-second').filter((r) => r.startedAt > frozenAt + 500 && r.startedAt < resumedAt)).toEqual([]);
    expect(a.get(ScheduleService).stats.unavailable).toBeGreaterThanOrEqual(1);
    const ticks = ticksOf(ofJob('every-second'));
    expect(new Set(ticks).size).toBe(ticks.length);
    const after = ticksOf(ofJob('every-second').filter((r) => r.startedAt > resumedAt + 1_000));
    expect(after.length).toBeGreaterThanOrEqual(1);
    expect(gaps(after)).toEqual([]);
  }, 60_000);

  it('missed ticks at startup: run-once runs the latest missed tick once, skip waits for the next', async () => {
    const keyPrefix = uniquePrefix('sched');
    const first = await instance('first', keyPrefix, [Missed]);
    await waitFor(
      'a run of each job',
      () => ofJob('missed-once').length > 0 && ofJob('missed-skip').length > 0,
      10_000,
    );
    await first.close();
    apps.splice(0);
    const lastTick = Math.max(...ofJob('missed-once').map((r) => r.tick));
    await sleep(4_500); // every instance is down for two ticks or more
    const restartAt = Date.now();
    await instance('second', keyPrefix, [Missed]);
    await sleep(1_000);

    const catchUps = ofJob('missed-once').filter((r) => r.catchUp);
    expect(catchUps).toHaveLength(1);
    expect(catchUps[0].tick).toBeGreaterThan(lastTick);
    expect(catchUps[0].tick).toBeGreaterThan(restartAt - 2_000); // the latest missed tick, not an older one
    expect(catchUps[0].tick).toBeLessThanOrEqual(catchUps[0].startedAt); // a past tick, run late
    expect(catchUps[0].instance).toBe('second');
    expect(ofJob('missed-skip').filter((r) => r.catchUp)).toEqual([]);
  }, 30_000);
});
