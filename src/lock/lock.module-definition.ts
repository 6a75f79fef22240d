import { ConfigurableModuleBuilder } from '@nestjs/common';
import { LOCK_MODULE_OPTIONS } from './lock.constants';
import type { LockModuleOptions } from './lock.options';

/** Extra options of `LockModule.forRoot/forRootAsync` that shape the module itself. */
export interface LockModuleExtras {
  /** Register the module globally (default true): any module can inject LockService. */
  isGlobal?: boolean;
}

/** Built by ConfigurableModuleBuilder: `forRoot` / `forRootAsync` with typed options. */
export const {
  ConfigurableModuleClass: LockConfigurableModule,
  OPTIONS_TYPE: LOCK_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: LOCK_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<LockModuleOptions>({ optionsInjectionToken: LOCK_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<LockModuleExtras>({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
