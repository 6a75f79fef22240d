import { Injectable } from '@nestjs/common';

/**
 * The clock the schedule reads (`Date.now()`). A provider of RedisScheduleModule so that a test can replace it
 * (`overrideProvider(ScheduleClock)`) to give one instance a skewed clock; applications have no reason to.
 */
@Injectable()
export class ScheduleClock {
  /** The current time, epoch ms. */
  now(): number {
    return Date.now();
  }
}
