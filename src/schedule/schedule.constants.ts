/** Injection token of the RedisScheduleModule options (as given; checked by ScheduleService at startup). */
export const SCHEDULE_MODULE_OPTIONS = 'nest-redis-kit:schedule:options';

/** Metadata key set by `@Scheduled` on a method. */
export const SCHEDULED_METADATA = 'nest-redis-kit:schedule:scheduled';
