import type { Logger } from '@nestjs/common';
import type { Metric, Registry } from 'prom-client';
import type { FeatureMetric, FeatureMetricsSource, MetricSample } from '../core/feature-metrics';

/** One exported metric name: the definition that registered it and the readers of every source giving it. */
interface ExportedMetric {
  metric: FeatureMetric;
  /** Where the definition came from, for warnings. */
  from: string;
  readers: Array<() => ReturnType<FeatureMetric['collect']>>;
}

/** What prom-client's Registry reads from a metric at scrape time (`get()`). */
interface Collected {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  values: Array<{ labels: Record<string, string>; value: number }>;
  aggregator: 'sum';
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const sameLabels = (a: readonly string[] = [], b: readonly string[] = []): boolean =>
  a.length === b.length && a.every((name, i) => name === b[i]);

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Turns the metrics of {@link FeatureMetricsSource}s into metrics of one prom-client registry, read at scrape time.
 * A metric shows exactly the samples its readers gave (a reader that fails or gives nothing leaves it without
 * samples: absent rather than a misleading 0). Two sources giving the same name (two instances of one feature
 * module) are one metric: counters of equal labels add up, for gauges the last one wins. A source giving an
 * existing name with another type or other labels is left out with a warning. A reader that throws is logged and
 * skipped; the scrape goes on.
 */
export class FeatureMetricsExporter {
  private readonly exported = new Map<string, ExportedMetric>();

  /**
   * @param prefix prepended to every metric name (e.g. `nrk_`)
   * @param logger receives one warning per conflicting definition or failed read
   */
  constructor(
    private readonly registry: Registry,
    private readonly prefix: string,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  /**
   * Registers the metrics of one source (asks `source.metrics()` once).
   * @param from the source's name, for warnings and errors
   * @throws Error on an invalid metric or label name, or a name the registry already holds from elsewhere
   */
  add(source: FeatureMetricsSource, from: string): void {
    for (const metric of source.metrics()) {
      const read = () => metric.collect();
      const known = this.exported.get(metric.name);
      if (!known) {
        const exported: ExportedMetric = { metric, from, readers: [read] };
        this.register(exported);
        this.exported.set(metric.name, exported);
      } else if (known.metric.type !== metric.type || !sameLabels(known.metric.labelNames, metric.labelNames)) {
        this.logger.warn(
          `metric ${metric.name} of ${from} left out: ${known.from} already gives it with another type or labels`,
        );
      } else {
        known.readers.push(read);
      }
    }
  }

  private register(exported: ExportedMetric): void {
    const { metric, from } = exported;
    const name = `${this.prefix}${metric.name}`;
    const fail = (problem: string): never => {
      throw new Error(`MetricsModule: metric ${metric.name} of ${from}: ${problem}`);
    };
    if (!METRIC_NAME.test(name)) fail('not a valid Prometheus metric name');
    for (const label of metric.labelNames ?? []) {
      if (!LABEL_NAME.test(label) || label.startsWith('__')) fail(`"${label}" is not a valid label name`);
    }
    const get = async (): Promise<Collected> => ({
      name,
      help: metric.help,
      type: metric.type,
      values: this.merge(metric.type, await this.samples(exported)),
      aggregator: 'sum',
    });
    try {
      // prom-client reads any object with name, help and get() (as for the command latency histogram)
      this.registry.registerMetric({ name, help: metric.help, get, reset: () => undefined } as unknown as Metric);
    } catch (err) {
      fail(message(err));
    }
  }

  /** Every sample of one metric now, from all its sources. */
  private async samples(exported: ExportedMetric): Promise<MetricSample[]> {
    const samples: MetricSample[] = [];
    for (const read of exported.readers) {
      try {
        const value = await read();
        if (typeof value === 'number') samples.push({ value });
        else if (Array.isArray(value)) samples.push(...value);
      } catch (err) {
        this.logger.warn(`metric ${exported.metric.name}: ${message(err)}`);
      }
    }
    return samples.filter((s) => Number.isFinite(s.value));
  }

  /** One value per label set: counters add up (never below 0), for gauges the last sample wins. */
  private merge(type: FeatureMetric['type'], samples: MetricSample[]): Collected['values'] {
    const byLabels = new Map<string, Collected['values'][number]>();
    for (const s of samples) {
      const labels = s.labels ?? {};
      const key = JSON.stringify(
        Object.keys(labels)
          .sort()
          .map((k) => [k, labels[k]]),
      );
      const value = type === 'counter' ? Math.max(0, s.value) : s.value;
      const seen = byLabels.get(key);
      if (seen && type === 'counter') seen.value += value;
      else byLabels.set(key, { labels, value });
    }
    return [...byLabels.values()];
  }
}
