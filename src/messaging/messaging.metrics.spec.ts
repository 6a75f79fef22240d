import type { StreamConsumerRegistry } from './stream-consumer.registry';
import { MessagingMetrics } from './messaging.metrics';
import { MessagingStats } from './messaging.stats';
import type { StreamInfo, StreamProducer } from './stream-producer.service';

describe('MessagingMetrics', () => {
  const consumers = {
    consumers: [
      { label: 'A.handle', stream: 'orders', group: 'billing', consumer: 'c1' },
      { label: 'B.handle', stream: 'orders', group: 'mail', consumer: 'c1' },
    ],
  } as StreamConsumerRegistry;
  const info: StreamInfo = {
    length: 10,
    deadLetters: 2,
    groups: [
      { name: 'billing', consumers: 1, pending: 1, lastDeliveredId: '1-0', lag: 3 },
      { name: 'mail', consumers: 1, pending: 0, lastDeliveredId: '1-0', lag: null },
    ],
  };
  const asked: string[] = [];
  const producer = {
    info: (stream: string) => {
      asked.push(stream);
      return Promise.resolve(info);
    },
  } as StreamProducer;

  it('exports the messaging counters from MessagingStats.stats and the per-stream gauges', async () => {
    const stats = new MessagingStats();
    stats.inc('deadLettered', 2);
    const metrics = new MessagingMetrics(stats, consumers, producer).metrics();
    expect(metrics.map((m) => m.name)).toEqual([
      'messaging_published_total',
      'messaging_received_total',
      'messaging_added_total',
      'messaging_handled_total',
      'messaging_failed_total',
      'messaging_retried_total',
      'messaging_dead_lettered_total',
      'messaging_invalid_total',
      'messaging_reclaimed_total',
      'messaging_rejected_total',
      'messaging_delayed_total',
      'messaging_delayed_moved_total',
      'messaging_delayed_cancelled_total',
      'messaging_delayed_lateness_seconds_total',
      'messaging_delayed_lateness_max_seconds',
      'messaging_consumer_group_lag',
      'messaging_consumer_group_pending',
      'messaging_dead_letter_queue_length',
    ]);
    const read = (name: string) => metrics.find((m) => m.name === name)!.collect();
    expect(await read('messaging_dead_lettered_total')).toBe(2);
    // a lag Redis cannot tell (null) is left out; each consumed stream is asked once per gauge
    expect(await read('messaging_consumer_group_lag')).toEqual([
      { labels: { stream: 'orders', group: 'billing' }, value: 3 },
    ]);
    expect(await read('messaging_consumer_group_pending')).toEqual([
      { labels: { stream: 'orders', group: 'billing' }, value: 1 },
      { labels: { stream: 'orders', group: 'mail' }, value: 0 },
    ]);
    expect(await read('messaging_dead_letter_queue_length')).toEqual([{ labels: { stream: 'orders' }, value: 2 }]);
    expect(asked).toEqual(['orders', 'orders', 'orders']);
  });
});
