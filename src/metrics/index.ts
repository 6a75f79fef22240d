export { MetricsModule } from './metrics.module';
export { MetricsService } from './metrics.service';
export {
  METRICS_MODULE_OPTIONS,
  METRICS_REGISTRY,
  DEFAULT_METRICS_PREFIX,
  DEFAULT_METRICS_PATH,
  DEFAULT_COMMAND_BUCKETS_SECONDS,
} from './metrics.constants';
export { resolveMetricsOptions, type MetricsModuleOptions, type ResolvedMetricsOptions } from './metrics.options';
export type { MetricsModuleExtras } from './metrics.module-definition';
export { instrumentClient, type CommandObserver } from './redis-command.instrumentation';
export { CommandLatencyAggregator, type CollectedMetric } from './command-latency.aggregator';
// How a feature (the library's, or the application's own) contributes metrics: FeatureMetricsProvider,
// statsCounters and the FeatureMetric types.
export * from '../core/feature-metrics';
