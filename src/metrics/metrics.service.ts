import {
  Inject,
  Injectable,
  Logger,
  type InjectionToken,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { ModuleRef } from '@nestjs/core';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { RedisHealthIndicator, RedisService, type RedisClient } from '../redis';
import { DEFAULT_COMMAND_BUCKETS_SECONDS, DEFAULT_METRICS_PREFIX, METRICS_MODULE_OPTIONS } from './metrics.constants';
import { DEFAULT_FEATURE_METRICS } from './feature-metrics';
import type { FeatureMetricDefinition, MetricSample, MetricsModuleOptions } from './metrics.options';
import { CommandLatencyAggregator } from './command-latency.aggregator';
import { instrumentClient } from './redis-command.instrumentation';

/**
 * Prometheus metrics of the Redis connections and of every feature the application uses, in a
 * prom-client Registry. Connection state, PING round trip and feature counters are read at scrape
 * time; command latency is observed as commands complete.
 */
@Injectable()
export class MetricsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('MetricsModule');
  /** The registry holding every metric of this module. */
  readonly registry: Registry;
  private readonly prefix: string;
  private readonly latency: CommandLatencyAggregator | undefined;
  private readonly instrumented = new Map<RedisClient, () => void>();
  private readonly scraping = new AsyncLocalStorage<boolean>();
  private readonly features: { def: FeatureMetricDefinition; instance: unknown }[] = [];

  constructor(
    @Inject(METRICS_MODULE_OPTIONS) private readonly options: MetricsModuleOptions,
    private readonly redis: RedisService,
    private readonly health: RedisHealthIndicator,
    private readonly moduleRef: ModuleRef,
  ) {
    this.registry = options.registry ?? new Registry();
    this.prefix = options.prefix ?? DEFAULT_METRICS_PREFIX;
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(this.prefix)) {
      throw new Error(`MetricsModule: prefix "${this.prefix}" is not a valid Prometheus metric name start`);
    }
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: this.prefix });

    const connections = () => this.redis.listConnections();
    const indicator = this.health;
    new Gauge({
      name: `${this.prefix}redis_connection_up`,
      help: 'Redis connection state per tracked client: 1 = ready, 0 = anything else',
      labelNames: ['client', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of connections()) {
          this.set({ client: c.name, state: c.client.status }, c.client.status === 'ready' ? 1 : 0);
        }
      },
    });
    if (options.pingOnScrape ?? true) {
      new Gauge({
        name: `${this.prefix}redis_ping_seconds`,
        help: 'Round trip of a PING sent at scrape time per non-blocking client (absent when it did not answer)',
        labelNames: ['client'],
        registers: [this.registry],
        async collect() {
          this.reset();
          const probes = await Promise.all(
            connections()
              .filter((c) => !c.blocking)
              .map(async (c) => [c.name, await indicator.probe(c)] as const),
          );
          for (const [client, p] of probes) if (p.latencyMs !== undefined) this.set({ client }, p.latencyMs / 1000);
        },
      });
    }
    if (options.commandLatency ?? true) {
      const buckets = [...(options.commandBucketsSeconds ?? DEFAULT_COMMAND_BUCKETS_SECONDS)].sort((a, b) => a - b);
      if (buckets.length === 0 || buckets.some((b) => !(b > 0) || !Number.isFinite(b))) {
        throw new Error('MetricsModule: commandBucketsSeconds must be positive, finite numbers of seconds');
      }
      const latency = new CommandLatencyAggregator(
        `${this.prefix}redis_command_duration_seconds`,
        `${this.prefix}redis_command_errors_total`,
        buckets,
      );
      this.latency = latency;
      const histogram = latency.histogram;
      // prom-client reads any object with name/help/get(): connections made since the last scrape are timed from now on.
      this.registry.registerMetric({
        ...histogram,
        get: () => {
          this.instrumentConnections();
          return histogram.get();
        },
      } as unknown as Metric);
      this.registry.registerMetric(latency.errors as unknown as Metric);
    }
  }

  /** Content-Type of {@link scrape}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Every metric in the Prometheus text format. Commands the scrape itself sends (PING, XINFO, SCAN)
   * are not counted in the command latency histogram.
   */
  scrape(): Promise<string> {
    return this.scraping.run(true, () => this.registry.metrics());
  }

  /**
   * Registers the metrics of the features present in the application (a feature it does not use has
   * none, rather than zeros) and starts timing Redis commands.
   */
  onApplicationBootstrap(): void {
    for (const def of this.options.features ?? DEFAULT_FEATURE_METRICS) {
      let instance: unknown;
      try {
        instance = this.moduleRef.get(def.provider, { strict: false });
      } catch {
        continue; // feature not used by this application: its metrics stay absent
      }
      this.features.push({ def, instance });
      this.registerFeatureMetric(def);
    }
    this.instrumentConnections();
  }

  /** Removes the command timers from the clients. */
  onModuleDestroy(): void {
    for (const remove of this.instrumented.values()) remove();
    this.instrumented.clear();
  }

  /** Wraps every tracked, non-blocking connection not yet timed (dedicated connections appear after startup). */
  private instrumentConnections(): void {
    const latency = this.latency;
    if (!latency) return;
    const scraping = this.scraping;
    for (const c of this.redis.listConnections()) {
      if (c.blocking || this.instrumented.has(c.client)) continue;
      const client = c.name;
      this.instrumented.set(
        c.client,
        instrumentClient(
          c.client,
          (command, seconds, failed) => latency.record(client, command.toLowerCase(), seconds, failed),
          () => scraping.getStore() === true,
        ),
      );
    }
  }

  private registerFeatureMetric(def: FeatureMetricDefinition): void {
    const features = this.features;
    const logger = this.logger;
    const lookup = (token: InjectionToken): unknown => {
      try {
        return this.moduleRef.get(token, { strict: false });
      } catch {
        return undefined;
      }
    };
    const read = async (): Promise<MetricSample[]> => {
      const samples: MetricSample[] = [];
      for (const { instance } of features.filter((f) => f.def === def)) {
        try {
          const v = await def.collect(instance, lookup);
          if (typeof v === 'number') samples.push({ value: v });
          else if (Array.isArray(v)) samples.push(...v);
        } catch (err) {
          logger.warn(`metric ${def.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return samples.filter((s) => Number.isFinite(s.value));
    };
    const common = {
      name: `${this.prefix}${def.name}`,
      help: def.help,
      labelNames: def.labelNames ?? [],
      registers: [this.registry],
    };
    if (def.type === 'counter') {
      new Counter({
        ...common,
        async collect() {
          const samples = await read();
          this.reset();
          for (const s of samples) this.inc(s.labels ?? {}, Math.max(0, s.value));
        },
      });
    } else {
      new Gauge({
        ...common,
        async collect() {
          const samples = await read();
          this.reset();
          for (const s of samples) this.set(s.labels ?? {}, s.value);
        },
      });
    }
  }
}
