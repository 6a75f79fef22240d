import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { OutageBreaker, check, settleWithin, sleep, withTimeout, type AnyMethod } from '../core';
import {
  RedisService,
  RedisTimeoutError,
  RedisUnavailableError,
  isRedisConnectionError,
  type RedisClient,
} from '../redis';
import { ScheduleClock } from './schedule.clock';
import { SCHEDULE_MODULE_OPTIONS } from './schedule.constants';
import { ScheduleKeys } from './schedule.keys';
import {
  resolveScheduleOptions,
  type RedisScheduleModuleOptions,
  type ResolvedScheduleOptions,
  type ResolvedScheduledOptions,
} from './schedule.options';
import { CLAIM_TICK, RELEASE_RUN, RENEW_RUN, TAKE_TURN, type ClaimVerdict } from './schedule.scripts';
import type { ScheduledTick } from './scheduled.decorator';

/** Counters of one ScheduleService since startup (this instance's share), for a metrics module. */
export interface ScheduleStats {
  /** Runs this instance made (failed ones included). */
  runs: number;
  /** Runs that threw (or rejected). */
  failures: number;
  /**
   * Ticks skipped on this instance: claimed while a run was in progress (`overlap`), or not claimable because Redis
   * was unavailable (every instance counts those).
   */
  skipped: number;
  /** Ticks not claimed because Redis could not be reached (among `skipped`): never run unclaimed. */
  unavailable: number;
  /** Total time spent in runs, in milliseconds. */
  runMs: number;
}

/** One job as {@link ScheduleService.jobs} reports it (this instance's view). */
export interface ScheduledJobState {
  /** The job's name. */
  name: string;
  /** `every 1000 ms`, `cron "0 3 * * *" (Europe/Paris)`. */
  trigger: string;
  /** Runs this instance made. */
  runs: number;
  /** Of which failed. */
  failures: number;
  /** Ticks this instance claimed and skipped. */
  skipped: number;
  /** Start of this instance's last run (epoch ms), if any. */
  lastRunAt?: number;
  /** Duration of this instance's last run in milliseconds, if any. */
  lastDurationMs?: number;
  /** How this instance's last run ended (`ok`, or `failed` when the method threw), if any. */
  lastResult?: 'ok' | 'failed';
  /** The error message of this instance's last run when it failed. */
  lastError?: string;
  /** The next tick this instance will try to claim (epoch ms), while the schedule runs. */
  nextRunAt?: number;
  /** True while this instance runs the job. */
  running: boolean;
}

/**
 * How long a queued tick that finds the run lease lapsed leaves it to its holder before taking it, in milliseconds:
 * half a lease, more than the holder's renewal period (a third of a lease), so a holder that is still running (its
 * process or Redis stalled longer than the lease) takes it back first.
 */
function lapseGraceMs(runLeaseMs: number): number {
  return Math.floor(runLeaseMs / 2);
}

/** Waits longer than this are cut and re-armed (setTimeout's limit, and clock changes), in milliseconds. */
const MAX_TIMER_MS = 60_000;

/** One registered job and its state on this instance. */
class Job {
  readonly state: ScheduledJobState;
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly options: ResolvedScheduledOptions,
    readonly method: AnyMethod,
    readonly label: string,
  ) {
    this.state = {
      name: options.name,
      trigger: options.trigger.description,
      runs: 0,
      failures: 0,
      skipped: 0,
      running: false,
    };
  }

  /** How long a tick's claim record is kept: twice the period, at least a minute, at most a day (ms). */
  get claimTtlMs(): number {
    return Math.min(86_400_000, Math.max(60_000, 2 * this.options.periodMs));
  }
}

/**
 * Runs the `@Scheduled` jobs: one timer per job on each instance; at each tick every instance tries to claim it in
 * Redis (one Lua call on the job's keys) and only the one that claimed it runs it, under a run lease that the other
 * instances see (overlap policy). Redis unavailable: the tick is skipped with a warning (once per outage), never
 * run unclaimed; the schedule goes on and claims again when Redis is back.
 */
@Injectable()
export class ScheduleService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RedisSchedule');
  private readonly options: ResolvedScheduleOptions;
  private readonly registered = new Map<string, Job>();
  private readonly instanceId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly stopping = new AbortController();
  /** Runs in progress on this instance, each up to the release of its lease. */
  private readonly inFlight = new Set<Promise<void>>();
  private client: RedisClient | undefined;
  private keys = new ScheduleKeys('');
  private readonly counters: ScheduleStats = { runs: 0, failures: 0, skipped: 0, unavailable: 0, runMs: 0 };
  private readonly breaker = new OutageBreaker({
    subject: 'the schedule',
    fallback: 'ticks are skipped (never run unclaimed)',
    probeIntervalMs: 500,
    logger: this.logger,
  });

  constructor(
    private readonly redis: RedisService,
    private readonly clock: ScheduleClock,
    @Inject(SCHEDULE_MODULE_OPTIONS) options: RedisScheduleModuleOptions,
  ) {
    this.options = resolveScheduleOptions(options);
  }

  /** Counters since startup (a copy): runs, failures, skipped, unavailable, runMs. */
  get stats(): ScheduleStats {
    return { ...this.counters };
  }

  /** This instance's view of every registered job (copies). */
  jobs(): ScheduledJobState[] {
    return [...this.registered.values()].map((j) => ({ ...j.state }));
  }

  /**
   * Registers a job (called by the `@Scheduled` handler at module initialisation).
   * @throws RedisConfigError when another method already uses the name
   */
  register(options: ResolvedScheduledOptions, method: AnyMethod, label: string): void {
    const other = this.registered.get(options.name);
    if (other) check.fail(`@Scheduled(${label}).name`, `"${options.name}" is already the name of ${other.label}`);
    this.registered.set(options.name, new Job(options, method, label));
  }

  /** Starts the timers (and runs missed ticks with `missed: 'run-once'`). */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.enabled || this.registered.size === 0) return;
    this.client = this.redis.getClient(this.options.clientName);
    this.keys = new ScheduleKeys(this.redis.prefixFor('schedule'));
    for (const job of this.registered.values()) {
      this.logger.log(`Job "${job.options.name}" (${job.label}) scheduled ${job.options.trigger.description}`);
      this.arm(job, this.clock.now());
      if (job.options.missed === 'run-once') void this.catchUp(job);
    }
  }

  /** Stops the timers and waits (at most one run lease) for the runs in progress, then gives their leases back. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    for (const job of this.registered.values()) {
      clearTimeout(job.timer);
      job.state.nextRunAt = undefined;
    }
    await settleWithin(Promise.all(this.inFlight), this.options.runLeaseMs, undefined);
  }

  /** Sets the job's timer for its first tick after `afterMs`. */
  private arm(job: Job, afterMs: number): void {
    if (this.stopping.signal.aborted) return;
    const tick = job.options.trigger.next(afterMs);
    job.state.nextRunAt = tick;
    if (tick === undefined) return;
    const wait = (): void => {
      const leftMs = tick - this.clock.now();
      if (leftMs > 0) {
        job.timer = setTimeout(wait, Math.min(leftMs, MAX_TIMER_MS));
        return;
      }
      // The next timer first (from now: ticks this instance slept through are left to the others), then this tick.
      this.arm(job, Math.max(tick, this.clock.now()));
      void this.fire(job, tick, false);
    };
    wait();
  }

  /**
   * At startup with `missed: 'run-once'`: when the last tick claimed (by any instance) is older than the latest tick
   * due, that latest tick is claimed and run now, once. No record at all (a new job, or Redis emptied) is not a miss.
   */
  private async catchUp(job: Job): Promise<void> {
    let last: string | null;
    try {
      const client = this.requireClient();
      last = await withTimeout(
        client.get(this.keys.last(job.options.name)),
        this.options.commandTimeoutMs,
        () => new RedisTimeoutError(this.options.commandTimeoutMs),
      );
    } catch (err) {
      this.logger.warn(`Job "${job.options.name}": missed ticks not checked, Redis unavailable (${message(err)})`);
      return;
    }
    if (last === null) return;
    const now = this.clock.now();
    let due: number | undefined;
    // Only the latest missed tick matters: start the walk at most 10000 periods back.
    let t = job.options.trigger.next(Math.max(Number(last), now - 10_000 * job.options.periodMs));
    for (let i = 0; t !== undefined && t < now && i < 10_000; i++) {
      due = t;
      t = job.options.trigger.next(t);
    }
    if (due === undefined) return;
    this.logger.log(`Job "${job.options.name}": running the missed tick ${new Date(due).toISOString()} once`);
    await this.fire(job, due, true);
  }

  /** Claims one tick and, when this instance got it, runs it (at once, or after the run in progress). */
  private async fire(job: Job, tick: number, catchUp: boolean): Promise<void> {
    const name = job.options.name;
    const token = `${this.instanceId}:${tick}`;
    const verdict = await this.redisStep(job, tick, () =>
      CLAIM_TICK.run<ClaimVerdict>(
        this.requireClient(),
        [this.keys.last(name), this.keys.tick(name, tick), this.keys.run(name), this.keys.queued(name)],
        [tick, token, job.claimTtlMs, this.options.runLeaseMs, job.options.overlap],
        this.options.commandTimeoutMs,
      ),
    );
    if (verdict === undefined) {
      // No answer: Redis may still carry the claim out when it answers again (a frozen server). The release queued
      // behind it on the same connection then gives back the lease it would take, so no run of a tick that nobody
      // runs holds the job until the lease expires.
      if (this.client?.status === 'ready') void this.release(job, token).catch(() => undefined);
      return;
    }
    if (verdict === 'taken') return;
    if (verdict === 'overlap') {
      this.skip(job);
      this.logger.debug(`Job "${name}": tick ${new Date(tick).toISOString()} skipped, the previous run goes on`);
      return;
    }
    if (verdict === 'wait' && !(await this.waitTurn(job, tick, token))) return;
    if (this.stopping.signal.aborted) {
      // Claimed as the application shuts down: not started, and the lease goes back at once.
      this.skip(job);
      await this.release(job, token).catch(() => undefined);
      return;
    }
    const running = this.run(job, tick, token, catchUp);
    this.inFlight.add(running);
    await running;
    this.inFlight.delete(running);
  }

  /** `overlap: 'wait'`: polls until the run in progress has ended and this tick holds the run lease. */
  private async waitTurn(job: Job, tick: number, token: string): Promise<boolean> {
    const name = job.options.name;
    while (!this.stopping.signal.aborted) {
      const taken = await this.redisStep(job, tick, () =>
        TAKE_TURN.run<number>(
          this.requireClient(),
          [this.keys.run(name), this.keys.queued(name)],
          [token, this.options.runLeaseMs, lapseGraceMs(this.options.runLeaseMs)],
          this.options.commandTimeoutMs,
        ),
      );
      if (taken === undefined) {
        if (this.client?.status === 'ready') void this.release(job, token).catch(() => undefined);
        return false;
      }
      if (taken === 1) return true;
      await sleep(this.options.waitPollMs, { signal: this.stopping.signal });
    }
    // Shutting down: give the queued place back, so that the run in progress does not hand its lease to no one.
    await this.release(job, token).catch(() => undefined);
    return false;
  }

  /** Runs the job's method for a claimed tick, renewing the run lease meanwhile; a failure is logged and counted. */
  private async run(job: Job, tick: number, token: string, catchUp: boolean): Promise<void> {
    const name = job.options.name;
    const runKey = this.keys.run(name);
    const leaseMs = this.options.runLeaseMs;
    let lostLease = false;
    const heartbeat = setInterval(
      () => {
        RENEW_RUN.run<number>(this.requireClient(), [runKey], [token, leaseMs], this.options.commandTimeoutMs).then(
          (renewed) => {
            if (renewed === 2) {
              this.logger.warn(
                `Job "${name}": run lease had lapsed (the process or Redis stalled longer than ${leaseMs} ms?); ` +
                  'taken back, as no other run had taken it',
              );
            } else if (renewed === 0 && !lostLease) {
              lostLease = true;
              this.logger.warn(`Job "${name}": run lease lost (Redis lost it?): another tick may start meanwhile`);
            }
          },
          () => undefined,
        );
      },
      Math.floor(leaseMs / 3),
    );
    const startedAt = this.clock.now();
    job.state.running = true;
    job.state.lastRunAt = startedAt;
    const ticket: ScheduledTick = { name, scheduledAt: new Date(tick), catchUp };
    const done = (async () => {
      try {
        await job.method(ticket);
        job.state.lastResult = 'ok';
        job.state.lastError = undefined;
      } catch (err) {
        job.state.lastResult = 'failed';
        job.state.lastError = message(err);
        job.state.failures++;
        this.counters.failures++;
        this.logger.error(
          `Job "${name}" failed for tick ${ticket.scheduledAt.toISOString()}: ${message(err)}`,
          err instanceof Error ? err.stack : undefined,
        );
      }
    })();
    await done;
    clearInterval(heartbeat);
    const durationMs = Math.max(0, this.clock.now() - startedAt);
    job.state.running = false;
    job.state.runs++;
    job.state.lastDurationMs = durationMs;
    this.counters.runs++;
    this.counters.runMs += durationMs;
    await this.release(job, token).catch((err: unknown) =>
      this.logger.warn(`Job "${name}": run lease not released (${message(err)}); it expires`),
    );
  }

  /** Gives back the run lease and the queued place of `token`, if they are its. */
  private release(job: Job, token: string): Promise<number> {
    const name = job.options.name;
    return RELEASE_RUN.run<number>(
      this.requireClient(),
      [this.keys.run(name), this.keys.queued(name)],
      [token, this.options.runLeaseMs],
      this.options.commandTimeoutMs,
    );
  }

  /**
   * One Redis step of a tick, through the outage breaker: its answer, or `undefined` when Redis is unavailable
   * (the tick is skipped and counted; the breaker logs once per outage) or the step failed otherwise (logged).
   */
  private async redisStep<T>(job: Job, tick: number, step: () => Promise<T>): Promise<T | undefined> {
    const client = this.requireClient();
    if (!this.breaker.allow(client)) {
      this.counters.unavailable++;
      this.skip(job);
      return undefined;
    }
    try {
      const answer = await step();
      this.breaker.success();
      return answer;
    } catch (err) {
      if (err instanceof RedisUnavailableError || isRedisConnectionError(err)) {
        this.breaker.failure(err);
        this.counters.unavailable++;
        this.skip(job);
      } else {
        this.skip(job, `tick ${new Date(tick).toISOString()} skipped: ${message(err)}`);
      }
      return undefined;
    }
  }

  private skip(job: Job, why?: string): void {
    job.state.skipped++;
    this.counters.skipped++;
    if (why) this.logger.warn(`Job "${job.options.name}": ${why}`);
  }

  private requireClient(): RedisClient {
    if (!this.client) throw new Error('the schedule has not started');
    return this.client;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
