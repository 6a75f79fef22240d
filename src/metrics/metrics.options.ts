import type { Registry } from 'prom-client';
import { check } from '../core/option-checker';
import { DEFAULT_COMMAND_BUCKETS_SECONDS, DEFAULT_METRICS_PREFIX } from './metrics.constants';

/**
 * Options of `MetricsModule.forRoot` / `forRootAsync`.
 *
 * The metrics of the features are not an option: each feature module the application imports registers its own
 * `FeatureMetricsSource` provider (`<feature>.metrics.ts`), and MetricsModule exports what it finds at bootstrap.
 * An application adds its own metrics the same way: an `@Injectable()` class marked `@FeatureMetricsProvider()`
 * that implements `FeatureMetricsSource` (`statsCounters` turns a `stats` getter into counters), provided in any
 * module. For anything else, register prom-client metrics in the `METRICS_REGISTRY` the module exports.
 */
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
  /** Histogram buckets of command latency, in seconds (default {@link DEFAULT_COMMAND_BUCKETS_SECONDS}). */
  commandBucketsSeconds?: number[];
  /** PING every non-blocking connection at scrape time to report its round trip (default true). */
  pingOnScrape?: boolean;
}

/** Options after validation, with every default applied (the registry stays optional: absent = the module's own). */
export type ResolvedMetricsOptions = Required<Omit<MetricsModuleOptions, 'registry'>> &
  Pick<MetricsModuleOptions, 'registry'>;

/**
 * Validates the options and applies the defaults; buckets come back sorted.
 * @throws RedisConfigError naming the option (`metrics.prefix`, `metrics.commandBucketsSeconds[2]`...)
 */
export function resolveMetricsOptions(options: MetricsModuleOptions = {}): ResolvedMetricsOptions {
  const prefix = options.prefix ?? DEFAULT_METRICS_PREFIX;
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    check.fail('metrics.prefix', `must be a valid Prometheus metric name start, got ${JSON.stringify(prefix)}`);
  }
  const buckets = options.commandBucketsSeconds ?? DEFAULT_COMMAND_BUCKETS_SECONDS;
  if (!Array.isArray(buckets) || buckets.length === 0) {
    check.fail('metrics.commandBucketsSeconds', 'must be a non-empty array of seconds');
  }
  buckets.forEach((b: unknown, i) => {
    if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0) {
      check.fail(
        `metrics.commandBucketsSeconds[${i}]`,
        `must be a positive, finite number of seconds, got ${String(b)}`,
      );
    }
  });
  return {
    prefix,
    registry: options.registry,
    defaultMetrics: check.boolean('metrics.defaultMetrics', options.defaultMetrics) ?? true,
    commandLatency: check.boolean('metrics.commandLatency', options.commandLatency) ?? true,
    commandBucketsSeconds: [...buckets].sort((a, b) => a - b),
    pingOnScrape: check.boolean('metrics.pingOnScrape', options.pingOnScrape) ?? true,
  };
}
