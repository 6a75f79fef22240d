import { check } from '../core';
import { DEFAULT_REDIS_CLIENT } from '../redis';
import { CronExpression } from './cron.expression';

/** Options of `RedisScheduleModule.forRoot()` / `forRootAsync()`. Every duration is in milliseconds. */
export interface RedisScheduleModuleOptions {
  /** Name of the RedisModule client the claims live on (default `default`). */
  clientName?: string;
  /**
   * Whether this instance claims ticks (default true). `false` on instances that must never run jobs (an API-only
   * node): they register nothing and the other instances run every tick.
   */
  enabled?: boolean;
  /**
   * Lease of a run in progress (default 15000), renewed every third of it while the run goes on. Ticks that come
   * while any instance runs the job follow its `overlap` policy; an instance killed mid-run holds the job at most
   * this long.
   */
  runLeaseMs?: number;
  /** Bound of each claim command (default 1000): a slow or frozen Redis costs a tick at most this, never a hang. */
  commandTimeoutMs?: number;
  /** With `overlap: 'wait'`, how often a queued tick asks whether the run in progress has ended (default 100). */
  waitPollMs?: number;
}

/** Options after validation, defaults filled in. */
export interface ResolvedScheduleOptions {
  /** See {@link RedisScheduleModuleOptions.clientName}. */
  clientName: string;
  /** See {@link RedisScheduleModuleOptions.enabled}. */
  enabled: boolean;
  /** See {@link RedisScheduleModuleOptions.runLeaseMs}. */
  runLeaseMs: number;
  /** See {@link RedisScheduleModuleOptions.commandTimeoutMs}. */
  commandTimeoutMs: number;
  /** See {@link RedisScheduleModuleOptions.waitPollMs}. */
  waitPollMs: number;
}

/** Validates RedisScheduleModule options; throws `RedisConfigError` naming the option (`schedule.runLeaseMs`). */
export function resolveScheduleOptions(options: RedisScheduleModuleOptions = {}): ResolvedScheduleOptions {
  const o = (check.object('schedule', options) ?? {}) as RedisScheduleModuleOptions;
  return {
    clientName: check.string('schedule.clientName', o.clientName) ?? DEFAULT_REDIS_CLIENT,
    enabled: check.boolean('schedule.enabled', o.enabled) ?? true,
    runLeaseMs: check.durationMs('schedule.runLeaseMs', o.runLeaseMs, { min: 300 }) ?? 15_000,
    commandTimeoutMs: check.durationMs('schedule.commandTimeoutMs', o.commandTimeoutMs, { min: 1 }) ?? 1_000,
    waitPollMs: check.durationMs('schedule.waitPollMs', o.waitPollMs, { min: 10 }) ?? 100,
  };
}

/** What to do with a tick that comes while the job's previous run (on any instance) is still going on. */
export type OverlapPolicy = 'skip' | 'wait';

/** What an instance does at startup when ticks passed while no instance claimed them. */
export type MissedTickPolicy = 'run-once' | 'skip';

/** Options of `@Scheduled`: give exactly one of `cron` and `everyMs`. */
export interface ScheduledOptions {
  /** The job's name, unique in the application and stable across deployments: its Redis keys carry it. */
  name: string;
  /**
   * A cron expression: 5 fields (`minute hour day-of-month month day-of-week`), or 6 with seconds first, or a macro
   * (`@daily`). See docs/schedule.md for the syntax.
   */
  cron?: string;
  /** A fixed period in milliseconds (at least 1000); ticks fall on multiples of it since the epoch. */
  everyMs?: number;
  /** IANA time zone the cron fields are read in (default `UTC`); not allowed with `everyMs`. */
  timeZone?: string;
  /**
   * A tick that comes while the previous run is still going on (on any instance): `skip` it (default, counted) or
   * `wait` for the run to end and run then (one tick waits at most; later ones are skipped).
   */
  overlap?: OverlapPolicy;
  /**
   * At startup, when the last tick claimed is older than the latest tick due (every instance was down): `run-once`
   * (run the latest missed tick once, now) or `skip` (default: wait for the next tick).
   */
  missed?: MissedTickPolicy;
}

/** When a job's ticks fall. */
export interface ScheduleTrigger {
  /** The first tick strictly after `afterMs` (epoch ms), or `undefined` when none comes. */
  next(afterMs: number): number | undefined;
  /** `cron "0 * * * *" (UTC)` or `every 5000 ms`, for messages. */
  readonly description: string;
}

/** `@Scheduled` options after validation. */
export interface ResolvedScheduledOptions {
  /** See {@link ScheduledOptions.name}. */
  name: string;
  /** The ticks. */
  trigger: ScheduleTrigger;
  /** Typical time between two ticks, in milliseconds (sizes the claim records). */
  periodMs: number;
  /** See {@link ScheduledOptions.overlap}. */
  overlap: OverlapPolicy;
  /** See {@link ScheduledOptions.missed}. */
  missed: MissedTickPolicy;
}

/** Ticks on multiples of `everyMs` since the epoch: every instance computes the same ticks whenever it started. */
class FixedPeriod implements ScheduleTrigger {
  constructor(private readonly everyMs: number) {}
  get description(): string {
    return `every ${this.everyMs} ms`;
  }
  next(afterMs: number): number {
    return (Math.floor(afterMs / this.everyMs) + 1) * this.everyMs;
  }
}

/** Ticks of a cron expression. */
class CronTrigger implements ScheduleTrigger {
  constructor(private readonly cron: CronExpression) {}
  get description(): string {
    return `cron "${this.cron.expression}" (${this.cron.timeZone})`;
  }
  next(afterMs: number): number | undefined {
    return this.cron.next(afterMs);
  }
}

/**
 * Validates the options of one `@Scheduled` method; throws `RedisConfigError` naming the option
 * (`@Scheduled(Reports.nightly).cron`).
 * @param where the option path prefix, `@Scheduled(Class.method)`
 * @param nowMs the current time (epoch ms), to size the period of a cron job
 */
export function resolveScheduledOptions(
  options: ScheduledOptions,
  where: string,
  nowMs: number,
): ResolvedScheduledOptions {
  const o = check.object(where, options) ?? check.fail(where, 'give the job options: { name, cron | everyMs }');
  const name = check.keyPart(`${where}.name`, o.name, 128) ?? check.fail(`${where}.name`, 'is required');
  const everyMs = check.durationMs(`${where}.everyMs`, o.everyMs, { min: 1_000 });
  const cron = check.string(`${where}.cron`, o.cron, 256);
  const timeZone = check.string(`${where}.timeZone`, o.timeZone, 64);
  const overlap = check.oneOf<OverlapPolicy>(`${where}.overlap`, o.overlap, ['skip', 'wait']) ?? 'skip';
  const missed = check.oneOf<MissedTickPolicy>(`${where}.missed`, o.missed, ['run-once', 'skip']) ?? 'skip';
  if ((everyMs === undefined) === (cron === undefined)) check.fail(where, 'give exactly one of `cron` and `everyMs`');
  if (everyMs !== undefined && timeZone !== undefined) {
    check.fail(`${where}.timeZone`, 'applies to `cron` only (an `everyMs` period has none)');
  }
  const trigger = everyMs !== undefined ? new FixedPeriod(everyMs) : cronTrigger(cron as string, timeZone, where);
  return { name, trigger, periodMs: everyMs ?? cronPeriodMs(trigger, nowMs), overlap, missed };
}

/** The trigger of a cron job; a bad expression or zone throws `RedisConfigError` naming `cron` or `timeZone`. */
function cronTrigger(cron: string, timeZone: string | undefined, where: string): ScheduleTrigger {
  try {
    return new CronTrigger(new CronExpression(cron, timeZone));
  } catch (err) {
    const problem = (err as Error).message;
    return check.fail(`${where}.${timeZone !== undefined && /time zone/.test(problem) ? 'timeZone' : 'cron'}`, problem);
  }
}

/** Time between the next two ticks of a cron job, in milliseconds. */
function cronPeriodMs(trigger: ScheduleTrigger, nowMs: number): number {
  const first = trigger.next(nowMs) ?? nowMs;
  return Math.max(1_000, (trigger.next(first) ?? first + 86_400_000) - first);
}
