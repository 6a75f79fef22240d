import { ConfigurableModuleBuilder } from '@nestjs/common';
import { DEFAULT_METRICS_PATH, METRICS_MODULE_OPTIONS } from './metrics.constants';
import { createMetricsController } from './metrics.controller';
import type { MetricsModuleOptions } from './metrics.options';

/** Extra options of `MetricsModule.forRoot/forRootAsync` that shape the module itself. */
export interface MetricsModuleExtras {
  /** Register the module globally (default true): any module can inject MetricsService. */
  isGlobal?: boolean;
  /** Route of the scrape endpoint (default `metrics` → `GET /metrics`); `false` registers no controller. */
  path?: string | false;
}

/** Built by ConfigurableModuleBuilder: `forRoot` / `forRootAsync` with typed options. */
export const {
  ConfigurableModuleClass: MetricsConfigurableModule,
  OPTIONS_TYPE: METRICS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: METRICS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MetricsModuleOptions>({ optionsInjectionToken: METRICS_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<MetricsModuleExtras>({ isGlobal: true, path: DEFAULT_METRICS_PATH }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    controllers: extras.path === false ? [] : [createMetricsController(extras.path ?? DEFAULT_METRICS_PATH)],
  }))
  .build();
