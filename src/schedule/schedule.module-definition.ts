import { ConfigurableModuleBuilder } from '@nestjs/common';
import { SCHEDULE_MODULE_OPTIONS } from './schedule.constants';
import type { RedisScheduleModuleOptions } from './schedule.options';

/** Extra options of `RedisScheduleModule.forRoot/forRootAsync` that shape the module itself. */
export interface RedisScheduleModuleExtras {
  /** Register the module globally (default true): any module can inject ScheduleService. */
  isGlobal?: boolean;
}

/** Built by ConfigurableModuleBuilder: `forRoot` / `forRootAsync` with typed options. */
export const {
  ConfigurableModuleClass: ScheduleConfigurableModule,
  OPTIONS_TYPE: SCHEDULE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SCHEDULE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedisScheduleModuleOptions>({ optionsInjectionToken: SCHEDULE_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<RedisScheduleModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
