import { SetMetadata } from '@nestjs/common';
import { SCHEDULED_METADATA } from './schedule.constants';
import type { ScheduledOptions } from './schedule.options';

/** What a scheduled method receives: the tick it runs for. */
export interface ScheduledTick {
  /** The job's name. */
  readonly name: string;
  /** The tick's scheduled time (not the time the run began): the same on every instance, whatever its clock. */
  readonly scheduledAt: Date;
  /** True when the tick is a missed one run at startup (`missed: 'run-once'`). */
  readonly catchUp: boolean;
}

/**
 * Runs the decorated provider method on a schedule, each tick on exactly one instance of the application: the tick
 * is claimed in Redis (one record per job and tick time), so that several instances, restarts, clock skew between
 * them and a slow previous run neither run a tick twice nor skip one silently. The method receives a
 * {@link ScheduledTick}; a failure is logged and counted and the schedule goes on. Only stores metadata: the
 * library's method explorer finds it at startup (needs RedisModule and RedisScheduleModule).
 *
 * ```ts
 * @Scheduled({ name: 'orders.expire', cron: '*\/5 * * * *', timeZone: 'Europe/Paris' })
 * async expirePending(tick: ScheduledTick): Promise<void> { ... }
 * ```
 * @param options name, `cron` (+ `timeZone`) or `everyMs`, `overlap` (skip / wait), `missed` (run-once / skip)
 */
export function Scheduled(options: ScheduledOptions): MethodDecorator {
  return SetMetadata<string, ScheduledOptions>(SCHEDULED_METADATA, options);
}
