import { Injectable } from '@nestjs/common';
import {
  FeatureMetricsProvider,
  statsCounters,
  type FeatureMetric,
  type FeatureMetricsSource,
} from '../core/feature-metrics';
import { streamGauges, streamInfos } from '../messaging/messaging.metrics';
import { StreamProducer } from '../messaging/stream-producer.service';
import { RedisStreamsServer } from './redis-streams.server';
import { TransportStats } from './transport.stats';

/**
 * The transport's counters (`messaging_transport_*_total`) from {@link TransportStats}, and for each stream the
 * server of this process reads (one per event pattern, its request stream) the consumer groups' lag and pending
 * entries and the dead-letter queue length (`messaging_transport_consumer_group_lag`...). Retries, reclaims and dead
 * letters are also counted with the messaging counters, as for every consumer.
 */
@FeatureMetricsProvider()
@Injectable()
export class TransportMetrics implements FeatureMetricsSource {
  constructor(
    private readonly stats: TransportStats,
    private readonly server: RedisStreamsServer,
    private readonly producer: StreamProducer,
  ) {}

  /** One counter per transport counter, and the stream gauges of the streams served here. */
  metrics(): FeatureMetric[] {
    const counters = statsCounters('messaging_transport', () => this.stats.stats, {
      emitted: { help: 'Events added by emit()' },
      emittedDelayed: { help: 'Events emit() scheduled with a delay' },
      requested: { help: 'Requests added by send()' },
      eventsHandled: { help: 'Event handler runs that completed' },
      eventsFailed: { help: 'Event handler runs that failed (retried, then dead-lettered)' },
      requestsHandled: { help: 'Requests answered by a handler of this process' },
      requestErrors: { help: 'Requests answered with an error' },
      requestsExpired: { help: 'Requests dropped unprocessed: their deadline had passed' },
      replies: { help: 'Reply entries written' },
      replyFailures: { help: 'Reply entries that could not be written' },
      timeouts: { help: 'send() calls that timed out' },
      lateReplies: { help: 'Replies that arrived after their request timed out or was cancelled (dropped)' },
      cancelled: { help: 'send() subscriptions cancelled before their last reply' },
    });
    return [...counters, ...streamGauges('messaging_transport', () => streamInfos(this.producer, this.server.streams))];
  }
}
