import type { FeatureMetricDefinition } from './metrics.options';

/**
 * Metrics of the library's features, read at scrape time from each feature's `stats` (filled in as
 * the features land). A feature the application does not import contributes nothing.
 */
export const DEFAULT_FEATURE_METRICS: FeatureMetricDefinition[] = [];
