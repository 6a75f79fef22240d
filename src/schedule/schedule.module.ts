import { Module } from '@nestjs/common';
import { ScheduleClock } from './schedule.clock';
import { ScheduleMetrics } from './schedule.metrics';
import { ScheduleConfigurableModule } from './schedule.module-definition';
import { ScheduleService } from './schedule.service';
import { ScheduledHandler } from './scheduled.handler';

/**
 * A cluster-wide schedule: `@Scheduled` methods run each tick on exactly one instance of the application, the tick
 * being claimed in Redis. Needs RedisModule (its method explorer finds `@Scheduled`). Named so that it does not
 * clash with `@nestjs/schedule`'s `ScheduleModule`.
 */
@Module({
  providers: [ScheduleService, ScheduleClock, ScheduledHandler, ScheduleMetrics],
  exports: [ScheduleService],
})
export class RedisScheduleModule extends ScheduleConfigurableModule {}
