import { ConfigurableModuleBuilder } from '@nestjs/common';
import { TRANSPORT_MODULE_OPTIONS } from './transport.constants';
import type { RedisStreamsTransportOptions } from './transport.options';

/** Extra options of `RedisStreamsTransportModule.forRoot/forRootAsync` that shape the module itself. */
export interface TransportModuleExtras {
  /**
   * Register the module globally (default true): the server, the default client and the transport's counters
   * injectable everywhere, and `RedisStreamsClientsModule.register` usable in any module.
   */
  isGlobal?: boolean;
}

/** Built by ConfigurableModuleBuilder: `forRoot` / `forRootAsync` with typed options. */
export const {
  ConfigurableModuleClass: TransportConfigurableModule,
  OPTIONS_TYPE: TRANSPORT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: TRANSPORT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedisStreamsTransportOptions>({ optionsInjectionToken: TRANSPORT_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<TransportModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
