import { ConfigurableModuleBuilder } from '@nestjs/common';
import { RATE_LIMIT_MODULE_OPTIONS } from './ratelimit.constants';
import type { RateLimitModuleOptions } from './ratelimit.options';

/** Extra options of `RateLimitModule.forRoot/forRootAsync` that shape the module itself. */
export interface RateLimitModuleExtras {
  /** Register the module globally (default true): `@RateLimit` routes and services of any module find it. */
  isGlobal?: boolean;
}

/** Built by ConfigurableModuleBuilder: `forRoot` / `forRootAsync` with typed options. */
export const {
  ConfigurableModuleClass: RateLimitConfigurableModule,
  OPTIONS_TYPE: RATE_LIMIT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: RATE_LIMIT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RateLimitModuleOptions>({ optionsInjectionToken: RATE_LIMIT_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<RateLimitModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
