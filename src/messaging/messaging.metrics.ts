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
 * The messaging metrics: counters from {@link MessagingStats.stats}, and per stream consumed in this process by a
 * `@StreamConsumer` the consumer groups' lag and pending entries and the dead-letter queue length (XINFO / XLEN at
 * scrape time, through {@link StreamProducer.info}).
 */
@FeatureMetricsProvider()
@Injectable()
export class MessagingMetrics implements FeatureMetricsSource {
  constructor(
    private readonly stats: MessagingStats,
    private readonly consumers: StreamConsumerRegistry,
    private readonly producer: StreamProducer,
  ) {}

  /** The counters, the delayed messages' largest lateness and the three stream gauges. */
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
        rejected: { help: 'Messages refused by a guard, a pipe or a 4xx HttpException (dropped or dead-lettered)' },
        delayed: { help: 'Stream messages scheduled for later (delayMs / at)' },
        delayedMoved: { help: 'Delayed stream messages (retries included) moved into their stream once due' },
        delayedCancelled: { help: 'Delayed stream messages cancelled before they were due' },
        delayedLatenessMs: {
          name: 'delayed_lateness_seconds_total',
          help: 'Sum of the lateness of the moved delayed messages (moved minus due, Redis clock), seconds',
          scale: 0.001,
        },
      }),
      {
        name: 'messaging_delayed_lateness_max_seconds',
        help: 'Largest lateness of a moved delayed message since start, seconds',
        type: 'gauge',
        collect: () => this.stats.stats.delayedLatenessMaxMs / 1000,
      },
      ...streamGauges('messaging', () => this.streams()),
    ];
  }

  /** Every stream a consumer of this process reads, with its info now. */
  private streams(): Promise<Array<[string, StreamInfo]>> {
    return streamInfos(
      this.producer,
      this.consumers.consumers.map((c) => c.stream),
    );
  }
}

/** The info now (XINFO / XLEN) of each distinct stream of `names`, in order. */
export async function streamInfos(producer: StreamProducer, names: string[]): Promise<Array<[string, StreamInfo]>> {
  const result: Array<[string, StreamInfo]> = [];
  for (const stream of new Set(names)) result.push([stream, await producer.info(stream)]);
  return result;
}

/**
 * The three stream gauges of a set of consumed streams, read at scrape time: `<feature>_consumer_group_lag` and
 * `<feature>_consumer_group_pending` per (stream, group), `<feature>_dead_letter_queue_length` per stream.
 * @param feature metric name prefix, e.g. `messaging`
 * @param streams the consumed streams with their info now
 */
export function streamGauges(feature: string, streams: () => Promise<Array<[string, StreamInfo]>>): FeatureMetric[] {
  return [
    {
      name: `${feature}_consumer_group_lag`,
      help: 'Entries of the stream not yet delivered to the consumer group (XINFO GROUPS lag)',
      type: 'gauge',
      labelNames: ['stream', 'group'],
      collect: async () => groupSamples(await streams(), 'lag'),
    },
    {
      name: `${feature}_consumer_group_pending`,
      help: 'Entries delivered to the consumer group and not yet acknowledged',
      type: 'gauge',
      labelNames: ['stream', 'group'],
      collect: async () => groupSamples(await streams(), 'pending'),
    },
    {
      name: `${feature}_dead_letter_queue_length`,
      help: 'Entries in the dead-letter stream of each consumed stream',
      type: 'gauge',
      labelNames: ['stream'],
      collect: async () => (await streams()).map(([stream, info]) => ({ labels: { stream }, value: info.deadLetters })),
    },
  ];
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
