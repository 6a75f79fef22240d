/** Injection token of the MetricsModule options. */
export const METRICS_MODULE_OPTIONS = 'nest-redis-kit:metrics:options';

/** Injection token of the prom-client Registry the module exports its metrics to. */
export const METRICS_REGISTRY = 'nest-redis-kit:metrics:registry';

/** Default metric name prefix. */
export const DEFAULT_METRICS_PREFIX = 'nrk_';

/** Default route of the scrape endpoint. */
export const DEFAULT_METRICS_PATH = 'metrics';

/** Histogram buckets of Redis command latency, in seconds (0.1 ms … 2.5 s). */
export const DEFAULT_COMMAND_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];
