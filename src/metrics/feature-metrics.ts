import type { InjectionToken } from '@nestjs/common';
import { CacheService, type CacheStats } from '../cache';
import { LockService, type LockStats } from '../lock';
import { MessagingExplorer, MessagingStats, StreamProducer, type MessagingCounters } from '../messaging';
import { SessionAuthService, type SessionStats } from '../session';
import type { FeatureMetricDefinition, MetricSample } from './metrics.options';

/** `deadLettered` → `dead_lettered`. */
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** One counter per listed field of a feature's stats object: `<feature>_<field>_total`. */
function counters<S extends object>(
  feature: string,
  provider: InjectionToken,
  read: (instance: unknown) => S,
  fields: Partial<Record<keyof S & string, { help: string; name?: string; scale?: number }>>,
): FeatureMetricDefinition[] {
  return Object.entries(fields).map(([field, spec]) => {
    const s = spec as { help: string; name?: string; scale?: number };
    return {
      name: `${feature}_${s.name ?? `${snake(field)}_total`}`,
      help: s.help,
      type: 'counter' as const,
      provider,
      collect: (instance: unknown) => {
        const value = (read(instance) as Record<string, unknown>)[field];
        return typeof value === 'number' ? value * (s.scale ?? 1) : undefined;
      },
    };
  });
}

const cacheStats = (i: unknown): CacheStats => (i as CacheService).stats;
const sessionStats = (i: unknown): SessionStats => (i as SessionAuthService).stats;
const messagingStats = (i: unknown): MessagingCounters => (i as MessagingStats).snapshot();
const lockStats = (i: unknown): LockStats => (i as LockService).stats;

/** Per stream consumed in this process: pending entries, group lag and dead-letter queue length (XINFO at scrape). */
async function streamSamples(
  explorer: MessagingExplorer,
  producer: StreamProducer | undefined,
  pick: 'lag' | 'pending' | 'dlq',
): Promise<MetricSample[]> {
  if (!producer) return [];
  const streams = [...new Set(explorer.consumers.map((c) => c.stream))];
  const samples: MetricSample[] = [];
  for (const stream of streams) {
    const info = await producer.info(stream);
    if (pick === 'dlq') {
      samples.push({ labels: { stream }, value: info.deadLetters });
      continue;
    }
    for (const g of info.groups) {
      const value = pick === 'lag' ? g.lag : g.pending;
      if (value !== null) samples.push({ labels: { stream, group: g.name }, value });
    }
  }
  return samples;
}

/**
 * Metrics of the library's features, read at scrape time from each feature's `stats` (counters only
 * grow) plus a few gauges read from Redis (active sessions, consumer-group lag). A feature the
 * application does not import contributes nothing.
 */
export const DEFAULT_FEATURE_METRICS: FeatureMetricDefinition[] = [
  ...counters('cache', CacheService, cacheStats, {
    hits: { help: 'Cache reads answered from the cache (near cache, stale and negative entries included)' },
    misses: { help: 'Cache reads that found nothing usable (Redis unavailable included)' },
    errors: { help: 'Cache operations on Redis that failed or timed out' },
    nearHits: { help: 'Of the hits: answered by the in-process near cache' },
    staleServed: { help: 'Of the hits: stale entries served while a refresh runs' },
    loads: { help: 'Loader calls made on a miss' },
    loadErrors: { help: 'Loader calls that threw' },
    coalesced: { help: 'Callers that joined a loader call already running (single flight)' },
    sets: { help: 'Entries written' },
    deletes: { help: 'Keys evicted through the cache API' },
    tagInvalidations: { help: 'Tags invalidated' },
    skipped: { help: 'Redis operations skipped while Redis was failing (fail-open fast path)' },
    outages: { help: 'Transitions from Redis working to Redis failing' },
  }),
  ...counters('session', SessionAuthService, sessionStats, {
    logins: { help: 'Successful logins' },
    loginFailures: { help: 'Logins refused for a wrong username or password' },
    throttled: { name: 'logins_throttled_total', help: 'Logins refused by throttling (429)' },
    logouts: { help: 'Logouts' },
    revoked: { help: 'Sessions revoked through the per-user index' },
    errors: { name: 'store_errors_total', help: 'Redis errors of the session store' },
    resurrectionsPrevented: { help: 'Session writes refused because the session had been destroyed meanwhile' },
  }),
  {
    name: 'session_active',
    help: 'Sessions stored in Redis now (SCAN at scrape time)',
    type: 'gauge',
    provider: SessionAuthService,
    collect: (i) => (i as SessionAuthService).countActiveSessions(),
  },
  ...counters('messaging', MessagingStats, messagingStats, {
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
    provider: MessagingExplorer,
    collect: (i, get) => streamSamples(i as MessagingExplorer, get(StreamProducer) as StreamProducer, 'lag'),
  },
  {
    name: 'messaging_consumer_group_pending',
    help: 'Entries delivered to the consumer group and not yet acknowledged',
    type: 'gauge',
    labelNames: ['stream', 'group'],
    provider: MessagingExplorer,
    collect: (i, get) => streamSamples(i as MessagingExplorer, get(StreamProducer) as StreamProducer, 'pending'),
  },
  {
    name: 'messaging_dead_letter_queue_length',
    help: 'Entries in the dead-letter stream of each consumed stream',
    type: 'gauge',
    labelNames: ['stream'],
    provider: MessagingExplorer,
    collect: (i, get) => streamSamples(i as MessagingExplorer, get(StreamProducer) as StreamProducer, 'dlq'),
  },
  ...counters('lock', LockService, lockStats, {
    acquired: { name: 'acquisitions_total', help: 'Locks acquired' },
    failed: { name: 'acquire_failures_total', help: 'Acquisitions given up because the lock stayed busy' },
    unavailable: { help: 'Acquisitions that failed because Redis could not be reached' },
    waitMs: { name: 'wait_seconds_total', help: 'Time spent waiting in acquire(), in seconds', scale: 0.001 },
    extensions: { help: 'Lease extensions (watchdog and explicit)' },
    lost: { name: 'losses_total', help: 'Locks lost while their work ran' },
    released: { name: 'releases_total', help: 'Locks released' },
  }),
];
