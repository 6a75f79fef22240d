import { DiscoveryService } from '@nestjs/core';

/** One sample of a feature metric: a value and, for labelled metrics, its labels. */
export interface MetricSample {
  /** Label values by label name (must match {@link FeatureMetric.labelNames}). */
  labels?: Record<string, string>;
  /** The value (a counter's running total, or a gauge's current value). */
  value: number;
}

/** One metric a feature contributes, read at scrape time. */
export interface FeatureMetric {
  /** Name without the metrics prefix, e.g. `cache_hits_total`. */
  name: string;
  /** HELP text. */
  help: string;
  /** `counter` for totals that only grow, `gauge` for current values. */
  type: 'counter' | 'gauge';
  /** Label names of the samples (none by default). */
  labelNames?: string[];
  /** Reads the value(s) now; `undefined` = no sample this time. */
  collect(): number | MetricSample[] | undefined | Promise<number | MetricSample[] | undefined>;
}

/**
 * A feature's metrics: a provider in the feature's module (its `<feature>.metrics.ts`), marked with
 * {@link FeatureMetricsProvider}. MetricsModule finds every such provider at bootstrap and imports no feature;
 * a feature the application does not use has no provider, so its metrics are absent rather than zero.
 */
export interface FeatureMetricsSource {
  /** The metrics, asked once at bootstrap. */
  metrics(): FeatureMetric[];
}

/** Marks a provider class as a {@link FeatureMetricsSource}. */
export const FeatureMetricsProvider = DiscoveryService.createDecorator<void>();

/** `deadLettered` → `dead_lettered`. */
const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** How one field of a stats object becomes a counter. */
export interface StatsCounterSpec {
  /** HELP text. */
  help: string;
  /** Name after `<feature>_` (default `<field in snake case>_total`). */
  name?: string;
  /** Factor applied to the value (e.g. 0.001 for a field in ms exported in seconds). */
  scale?: number;
}

/**
 * One counter per listed field of a feature's stats object: `<feature>_<field>_total`. Every feature exposes its
 * counters as a `stats` getter returning a plain object of numbers; this turns it into metrics.
 * @param read returns the current stats object
 */
export function statsCounters<S extends object>(
  feature: string,
  read: () => S,
  fields: Partial<Record<keyof S & string, StatsCounterSpec>>,
): FeatureMetric[] {
  return Object.entries(fields).map(([field, spec]) => {
    const s = spec as StatsCounterSpec;
    return {
      name: `${feature}_${s.name ?? `${snake(field)}_total`}`,
      help: s.help,
      type: 'counter' as const,
      collect: () => {
        const value = (read() as Record<string, unknown>)[field];
        return typeof value === 'number' ? value * (s.scale ?? 1) : undefined;
      },
    };
  });
}
