import { ConfigurableModuleBuilder } from '@nestjs/common';
import { MESSAGING_MODULE_OPTIONS } from './messaging.constants';
import type { MessagingModuleOptions } from './messaging.options';

/** Extra options of `MessagingModule.forRoot/forRootAsync` that shape the module itself. */
export interface MessagingModuleExtras {
  /** Register the module globally (default true): EventBus and StreamProducer injectable everywhere. */
  isGlobal?: boolean;
}

/** Built by ConfigurableModuleBuilder: `forRoot` / `forRootAsync` with typed options. */
export const {
  ConfigurableModuleClass: MessagingConfigurableModule,
  OPTIONS_TYPE: MESSAGING_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MESSAGING_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MessagingModuleOptions>({ optionsInjectionToken: MESSAGING_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<MessagingModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
