import { ConfigurableModuleBuilder } from '@nestjs/common';
import { REDIS_MODULE_OPTIONS } from './redis.constants';
import type { RedisModuleOptions } from './redis.options';

/** Extra options of `RedisModule.forRoot/forRootAsync` that shape the module itself. */
export interface RedisModuleExtras {
  /** Register the module globally (default true): features inject RedisService without importing RedisModule. */
  isGlobal?: boolean;
}

/** Built by ConfigurableModuleBuilder: `forRoot` / `forRootAsync` with typed options. */
export const {
  ConfigurableModuleClass: RedisConfigurableModule,
  OPTIONS_TYPE: REDIS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: REDIS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedisModuleOptions>({ optionsInjectionToken: REDIS_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<RedisModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
