/** One (client, command) series: bucket counts (not cumulated), sum of seconds, count, errors. */
interface Series {
  client: string;
  command: string;
  buckets: Float64Array;
  sum: number;
  count: number;
  errors: number;
}

/** A sample as prom-client's registry prints it. */
interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** What prom-client's Registry reads from a metric at scrape time (`get()`). */
export interface CollectedMetric {
  name: string;
  help: string;
  type: 'histogram' | 'counter';
  values: Sample[];
  aggregator: 'sum';
}

/**
 * Redis command latency per client and command, recorded on the hot path with one Map lookup and a
 * few additions (no label hashing), and rendered as a Prometheus histogram (plus an error counter)
 * only at scrape time. Registered in a prom-client Registry through {@link histogram} and {@link errors}.
 */
export class CommandLatencyAggregator {
  private readonly series = new Map<string, Series>();

  /**
   * @param name histogram name, e.g. `nrk_redis_command_duration_seconds`
   * @param errorsName counter name, e.g. `nrk_redis_command_errors_total`
   * @param bucketsSeconds upper bounds, ascending, in seconds
   */
  constructor(
    private readonly name: string,
    private readonly errorsName: string,
    private readonly bucketsSeconds: readonly number[],
  ) {}

  /** Records one command. */
  record(client: string, command: string, seconds: number, failed: boolean): void {
    const key = `${client}\u0000${command}`;
    let s = this.series.get(key);
    if (!s) {
      s = { client, command, buckets: new Float64Array(this.bucketsSeconds.length), sum: 0, count: 0, errors: 0 };
      this.series.set(key, s);
    }
    const b = this.bucketsSeconds;
    for (let i = 0; i < b.length; i++) {
      if (seconds <= b[i]) {
        s.buckets[i]++;
        break;
      }
    }
    s.sum += seconds;
    s.count++;
    if (failed) s.errors++;
  }

  /** The histogram metric object (prom-client `Metric` shape) for `registry.registerMetric`. */
  get histogram(): { name: string; help: string; get(): CollectedMetric; reset(): void } {
    return {
      name: this.name,
      help: 'Redis command latency per client and command, from send to reply (the scrape’s own commands excluded)',
      get: () => {
        const values: Sample[] = [];
        for (const s of this.series.values()) {
          const labels = { client: s.client, command: s.command };
          let cumulative = 0;
          this.bucketsSeconds.forEach((le, i) => {
            cumulative += s.buckets[i];
            values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
          });
          values.push({ labels: { le: '+Inf', ...labels }, value: s.count, metricName: `${this.name}_bucket` });
          values.push({ labels, value: s.sum, metricName: `${this.name}_sum` });
          values.push({ labels, value: s.count, metricName: `${this.name}_count` });
        }
        return { name: this.name, help: this.histogram.help, type: 'histogram', values, aggregator: 'sum' };
      },
      reset: () => this.series.clear(),
    };
  }

  /** The error counter metric object (prom-client `Metric` shape). */
  get errors(): { name: string; help: string; get(): CollectedMetric; reset(): void } {
    const help = 'Redis commands that failed (error reply, timeout or connection loss) per client and command';
    return {
      name: this.errorsName,
      help,
      get: () => ({
        name: this.errorsName,
        help,
        type: 'counter',
        values: [...this.series.values()]
          .filter((s) => s.errors > 0)
          .map((s) => ({ labels: { client: s.client, command: s.command }, value: s.errors })),
        aggregator: 'sum',
      }),
      reset: () => undefined,
    };
  }
}
