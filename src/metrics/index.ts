export { MetricsModule } from './metrics.module';
export { MetricsService } from './metrics.service';
export { DEFAULT_FEATURE_METRICS } from './feature-metrics';
export {
  METRICS_MODULE_OPTIONS,
  METRICS_REGISTRY,
  DEFAULT_METRICS_PREFIX,
  DEFAULT_METRICS_PATH,
  DEFAULT_COMMAND_BUCKETS_SECONDS,
} from './metrics.constants';
export type { FeatureMetricDefinition, MetricSample, MetricsModuleOptions } from './metrics.options';
export type { MetricsModuleExtras } from './metrics.module-definition';
export { instrumentClient, type CommandObserver } from './redis-command.instrumentation';
export { CommandLatencyAggregator, type CollectedMetric } from './command-latency.aggregator';
