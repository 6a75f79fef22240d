import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DiscoveryService } from '@nestjs/core';
import { Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { FeatureMetricsProvider, type FeatureMetricsSource } from '../core/feature-metrics';
import { RedisHealthIndicator, RedisService, type RedisClient } from '../redis';
import { CommandLatencyAggregator } from './command-latency.aggregator';
import { FeatureMetricsExporter } from './feature-metrics.exporter';
import { METRICS_MODULE_OPTIONS } from './metrics.constants';
import { resolveMetricsOptions, type MetricsModuleOptions } from './metrics.options';
import { registerConnectionMetrics } from './redis-connection.metrics';
import { instrumentClient } from './redis-command.instrumentation';

/**
 * Prometheus metrics of the Redis connections and of every feature the application uses, in a prom-client
 * Registry. Connection state, PING round trip and feature metrics are read at scrape time; command latency is
 * observed as commands complete. Feature metrics come from the `@FeatureMetricsProvider()` providers found at
 * bootstrap (each feature module registers its own): this module knows no feature.
 */
@Injectable()
export class MetricsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('MetricsModule');
  /** The registry holding every metric of this module. */
  readonly registry: Registry;
  private readonly latency: CommandLatencyAggregator | undefined;
  private readonly instrumented = new Map<RedisClient, () => void>();
  private readonly scraping = new AsyncLocalStorage<boolean>();
  private readonly features: FeatureMetricsExporter;
  private bootstrapped = false;

  /** @throws RedisConfigError on invalid options */
  constructor(
    @Inject(METRICS_MODULE_OPTIONS) options: MetricsModuleOptions,
    private readonly redis: RedisService,
    health: RedisHealthIndicator,
    private readonly discovery: DiscoveryService,
  ) {
    const o = resolveMetricsOptions(options);
    this.registry = o.registry ?? new Registry();
    if (o.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: o.prefix });
    registerConnectionMetrics(this.registry, o.prefix, redis, health, o.pingOnScrape);
    if (o.commandLatency) {
      const latency = new CommandLatencyAggregator(
        `${o.prefix}redis_command_duration_seconds`,
        `${o.prefix}redis_command_errors_total`,
        o.commandBucketsSeconds,
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
    this.features = new FeatureMetricsExporter(this.registry, o.prefix, this.logger);
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
   * Registers the metrics of every feature metrics provider of the application (a feature it does not use has
   * none, so its metrics are absent rather than zero) and starts timing Redis commands.
   */
  onApplicationBootstrap(): void {
    if (!this.bootstrapped) {
      this.bootstrapped = true;
      this.registerFeatureMetrics();
    }
    this.instrumentConnections();
  }

  /** Removes the command timers from the clients. */
  onModuleDestroy(): void {
    for (const remove of this.instrumented.values()) remove();
    this.instrumented.clear();
  }

  private registerFeatureMetrics(): void {
    const seen = new Set<object>();
    for (const wrapper of this.discovery.getProviders({ metadataKey: FeatureMetricsProvider.KEY })) {
      if (!wrapper.isDependencyTreeStatic()) {
        this.logger.warn(`${wrapper.name}: a request-scoped feature metrics provider cannot be read; left out`);
        continue;
      }
      const source = wrapper.instance as Partial<FeatureMetricsSource> | undefined;
      if (!source || seen.has(source) || typeof source.metrics !== 'function') continue;
      seen.add(source);
      this.features.add(source as FeatureMetricsSource, String(wrapper.name));
    }
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
}
