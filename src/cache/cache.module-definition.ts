import { ConfigurableModuleBuilder } from '@nestjs/common';
import { CACHE_MODULE_OPTIONS } from './cache.constants';
import type { RedisCacheModuleOptions } from './cache.options';

/** Extra options of `RedisCacheModule.forRoot/forRootAsync` that shape the module itself. */
export interface RedisCacheModuleExtras {
  /** Register globally (default true): CacheService, CACHE_MANAGER and the interceptors are injectable everywhere. */
  isGlobal?: boolean;
}

/** Built by ConfigurableModuleBuilder: `forRoot` / `forRootAsync` with typed options. */
export const {
  ConfigurableModuleClass: CacheConfigurableModule,
  OPTIONS_TYPE: CACHE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CACHE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedisCacheModuleOptions>({ optionsInjectionToken: CACHE_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<RedisCacheModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
