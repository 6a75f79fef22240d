import { Injectable } from '@nestjs/common';
import {
  METHOD_DECORATOR_ORDER,
  MethodDecoratorHandlerProvider,
  type AnyMethod,
  type DecoratedMethod,
  type MethodDecoratorHandler,
} from '../core';
import { ScheduleClock } from './schedule.clock';
import { SCHEDULED_METADATA } from './schedule.constants';
import { resolveScheduledOptions, type ScheduledOptions } from './schedule.options';
import { ScheduleService } from './schedule.service';

/**
 * What `@Scheduled` does, for the library's method explorer: at startup it checks the options of each decorated
 * method (a `RedisConfigError` naming `@Scheduled(Class.method).<option>`) and registers the method, with every
 * other library decorator on it applied (a `@WithLock` on the same method runs inside each tick), with the
 * {@link ScheduleService}, which starts the timers at application bootstrap.
 */
@MethodDecoratorHandlerProvider()
@Injectable()
export class ScheduledHandler implements MethodDecoratorHandler<ScheduledOptions> {
  /** See {@link MethodDecoratorHandler.decorator}. */
  readonly decorator = '@Scheduled';
  /** See {@link MethodDecoratorHandler.metadataKey}. */
  readonly metadataKey = SCHEDULED_METADATA;
  /** See {@link MethodDecoratorHandler.order}. */
  readonly order = METHOD_DECORATOR_ORDER.listener;

  constructor(
    private readonly schedule: ScheduleService,
    private readonly clock: ScheduleClock,
  ) {}

  /** Refuses unusable options. */
  validate(metadata: ScheduledOptions, target: DecoratedMethod): void {
    resolveScheduledOptions(metadata, `@Scheduled(${target.label})`, this.clock.now());
  }

  /** Registers the job. */
  bind(method: AnyMethod, metadata: ScheduledOptions, target: DecoratedMethod): void {
    const job = resolveScheduledOptions(metadata, `@Scheduled(${target.label})`, this.clock.now());
    this.schedule.register(job, method, target.label);
  }
}
