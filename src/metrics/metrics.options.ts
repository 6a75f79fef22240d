import type { InjectionToken } from '@nestjs/common';
import type { Registry } from 'prom-client';

/** One sample of a feature metric: a value and, for labelled metrics, its labels. */
export interface MetricSample {
  /** Label values by label name (must match {@link FeatureMetricDefinition.labelNames}). */
  labels?: Record<string, string>;
  /** The value (a counter's running total, or a gauge's current value). */
  value: number;
}

/**
 * A metric read at scrape time from a feature's provider (e.g. `CacheService.stats.hits`). The
 * provider is resolved optionally: when the application does not use that feature, the metric is
 * simply absent.
 */
export interface FeatureMetricDefinition {
  /** Metric name without the module prefix, e.g. `cache_hits_total`. */
  name: string;
  /** HELP text. */
  help: string;
  /** `counter` for monotonically increasing totals, `gauge` for current values. */
  type: 'counter' | 'gauge';
  /** Label names of the samples (none by default). */
  labelNames?: string[];
  /** The provider to read (class or token), looked up anywhere in the application. */
  provider: InjectionToken;
  /**
   * Reads the value(s) from the resolved provider; `undefined` = no sample this time.
   * @param get looks up another provider of the application (undefined when absent)
   */
  collect(
    instance: unknown,
    get: (token: InjectionToken) => unknown,
  ): number | MetricSample[] | undefined | Promise<number | MetricSample[] | undefined>;
}

/** Options of `MetricsModule.forRoot`. */
export interface MetricsModuleOptions {
  /** Prefix of every metric name (default `nrk_`). */
  prefix?: string;
  /** Registry to register the metrics in (default: a new one owned by the module; pass prom-client's `register` to share). */
  registry?: Registry;
  /** Also export Node.js process metrics (prom-client default metrics, default true). */
  defaultMetrics?: boolean;
  /**
   * Time every command sent on each tracked Redis connection (histogram per client and command,
   * errors counted; default true). Costs one timer read per command. Blocking connections are skipped.
   */
  commandLatency?: boolean;
  /** Histogram buckets of command latency, in seconds. */
  commandBucketsSeconds?: number[];
  /** PING every non-blocking connection at scrape time to report its round trip (default true). */
  pingOnScrape?: boolean;
  /**
   * Feature metrics read at scrape time. Default: {@link DEFAULT_FEATURE_METRICS} (cache, sessions,
   * messaging, locks). Add your own with `[...DEFAULT_FEATURE_METRICS, mine]`.
   */
  features?: FeatureMetricDefinition[];
}
