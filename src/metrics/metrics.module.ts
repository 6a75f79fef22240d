import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { METRICS_REGISTRY } from './metrics.constants';
import { MetricsConfigurableModule, type METRICS_OPTIONS_TYPE } from './metrics.module-definition';
import { MetricsService } from './metrics.service';

/**
 * Prometheus metrics at `GET /metrics` (route configurable, or none): Redis connection state, PING round trip and
 * command latency per client, plus the metrics of every feature module the application imports (each registers its
 * own `@FeatureMetricsProvider()`; this module imports none of them). Needs RedisModule.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    MetricsService,
    { provide: METRICS_REGISTRY, inject: [MetricsService], useFactory: (m: MetricsService) => m.registry },
  ],
  exports: [MetricsService, METRICS_REGISTRY],
})
export class MetricsModule extends MetricsConfigurableModule {
  /** Metrics with static options (all optional): `MetricsModule.forRoot()`. */
  static override forRoot(options: typeof METRICS_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
