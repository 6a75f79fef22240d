export { RedisScheduleModule } from './schedule.module';
export type { RedisScheduleModuleExtras } from './schedule.module-definition';
export { ScheduleService, type ScheduleStats, type ScheduledJobState } from './schedule.service';
export { Scheduled, type ScheduledTick } from './scheduled.decorator';
export { ScheduleClock } from './schedule.clock';
export { CronExpression } from './cron.expression';
export { SCHEDULE_MODULE_OPTIONS, SCHEDULED_METADATA } from './schedule.constants';
export {
  resolveScheduleOptions,
  resolveScheduledOptions,
  type RedisScheduleModuleOptions,
  type ResolvedScheduleOptions,
  type ScheduledOptions,
  type ResolvedScheduledOptions,
  type ScheduleTrigger,
  type OverlapPolicy,
  type MissedTickPolicy,
} from './schedule.options';
