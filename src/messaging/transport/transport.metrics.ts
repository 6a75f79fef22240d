import { Injectable } from '@nestjs/common';
import {
  FeatureMetricsProvider,
  statsCounters,
  type FeatureMetric,
  type FeatureMetricsSource,
} from '../../core/feature-metrics';
import { TransportStats } from './transport.stats';

/**
 * The transport's counters (`messaging_transport_*_total`) from {@link TransportStats}. Stream-level figures (lag,
 * pending, dead letters, retries, reclaims) come with the messaging metrics, as for every consumer.
 */
@FeatureMetricsProvider()
@Injectable()
export class TransportMetrics implements FeatureMetricsSource {
  constructor(private readonly stats: TransportStats) {}

  /** One counter per transport counter. */
  metrics(): FeatureMetric[] {
    return statsCounters('messaging_transport', () => this.stats.stats, {
      emitted: { help: 'Events added by emit()' },
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
  }
}
