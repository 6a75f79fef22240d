import { Injectable } from '@nestjs/common';
import {
  FeatureMetricsProvider,
  statsCounters,
  type FeatureMetric,
  type FeatureMetricsSource,
  type MetricSample,
} from '../core/feature-metrics';
import { MessagingStats } from './messaging.stats';
import { StreamConsumerRegistry } from './stream-consumer.registry';
import { StreamProducer, type StreamInfo } from './stream-producer.service';

/**
 * The messaging metrics: counters from {@link MessagingStats.stats}, and per stream consumed in this process the
 * consumer groups' lag and pending entries and the dead-letter queue length (XINFO / XLEN at scrape time, through
 * {@link StreamProducer.info}).
 */
@FeatureMetricsProvider()
@Injectable()
export class MessagingMetrics implements FeatureMetricsSource {
  constructor(
    private readonly stats: MessagingStats,
    private readonly consumers: StreamConsumerRegistry,
    private readonly producer: StreamProducer,
  ) {}

  /** The counters and the three stream gauges. */
  metrics(): FeatureMetric[] {
    return [
      ...statsCounters('messaging', () => this.stats.stats, {
        published: { help: 'Pub/sub messages published' },
        received: { help: 'Pub/sub messages received' },
        added: { help: 'Stream messages added' },
        handled: { help: 'Messages handled successfully (pub/sub handler runs and acked stream messages)' },
        failed: { help: 'Handler runs that threw (each stream retry counts)' },
        retried: { help: 'Stream retries scheduled after a failed attempt' },
        deadLettered: { help: 'Stream messages moved to the dead-letter stream' },
        invalid: { help: 'Messages that were not valid envelopes or failed DTO validation' },
        reclaimed: { help: 'Stream messages reclaimed from dead consumers (XAUTOCLAIM)' },
      }),
      {
        name: 'messaging_consumer_group_lag',
        help: 'Entries of the stream not yet delivered to the consumer group (XINFO GROUPS lag)',
        type: 'gauge',
        labelNames: ['stream', 'group'],
        collect: async () => groupSamples(await this.streams(), 'lag'),
      },
      {
        name: 'messaging_consumer_group_pending',
        help: 'Entries delivered to the consumer group and not yet acknowledged',
        type: 'gauge',
        labelNames: ['stream', 'group'],
        collect: async () => groupSamples(await this.streams(), 'pending'),
      },
      {
        name: 'messaging_dead_letter_queue_length',
        help: 'Entries in the dead-letter stream of each consumed stream',
        type: 'gauge',
        labelNames: ['stream'],
        collect: async () =>
          (await this.streams()).map(([stream, info]) => ({ labels: { stream }, value: info.deadLetters })),
      },
    ];
  }

  /** Every stream a consumer of this process reads, with its info now. */
  private async streams(): Promise<Array<[string, StreamInfo]>> {
    const names = [...new Set(this.consumers.consumers.map((c) => c.stream))];
    const result: Array<[string, StreamInfo]> = [];
    for (const stream of names) result.push([stream, await this.producer.info(stream)]);
    return result;
  }
}

/** One sample per (stream, group) of a consumer-group figure; a figure Redis cannot tell (null) is left out. */
function groupSamples(streams: Array<[string, StreamInfo]>, pick: 'lag' | 'pending'): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const [stream, info] of streams) {
    for (const group of info.groups) {
      const value = group[pick];
      if (value !== null) samples.push({ labels: { stream, group: group.name }, value });
    }
  }
  return samples;
}
