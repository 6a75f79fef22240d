import { Gauge, type Registry } from 'prom-client';
import type { RedisHealthIndicator, RedisService } from '../redis';

/**
 * The gauges of the Redis connections, read at scrape time: `redis_connection_up` (1 = ready, per client and
 * state) and, with `ping`, `redis_ping_seconds` (round trip of a PING per non-blocking client; absent when it did
 * not answer, so a scrape never fails because Redis is down).
 */
export function registerConnectionMetrics(
  registry: Registry,
  prefix: string,
  redis: RedisService,
  health: RedisHealthIndicator,
  ping: boolean,
): void {
  const connections = () => redis.listConnections();
  new Gauge({
    name: `${prefix}redis_connection_up`,
    help: 'Redis connection state per tracked client: 1 = ready, 0 = anything else',
    labelNames: ['client', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of connections()) {
        this.set({ client: c.name, state: c.client.status }, c.client.status === 'ready' ? 1 : 0);
      }
    },
  });
  if (!ping) return;
  new Gauge({
    name: `${prefix}redis_ping_seconds`,
    help: 'Round trip of a PING sent at scrape time per non-blocking client (absent when it did not answer)',
    labelNames: ['client'],
    registers: [registry],
    async collect() {
      this.reset();
      const probes = await Promise.all(
        connections()
          .filter((c) => !c.blocking)
          .map(async (c) => [c.name, await health.probe(c)] as const),
      );
      for (const [client, p] of probes) if (p.latencyMs !== undefined) this.set({ client }, p.latencyMs / 1000);
    },
  });
}
