import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { withTimeout } from '../core/deadline';
import { REDIS_CONNECTIONS } from './redis.constants';
import type { RedisConnections, TrackedConnection } from './redis.connections';

/** Health of one connection as reported by {@link RedisHealthIndicator}. */
export interface RedisConnectionHealth {
  /** `up` when it answered PING in time (or, for a blocking connection, is connected). */
  status: 'up' | 'down';
  /** Round trip of the PING in milliseconds, when it answered. */
  latencyMs?: number;
  /** ioredis connection state (`ready`, `reconnecting`...). */
  state: string;
  /** Why it is down. */
  error?: string;
}

/** A @nestjs/terminus indicator that PINGs every Redis connection (dedicated ones included) with a timeout. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(REDIS_CONNECTIONS) private readonly connections: RedisConnections,
  ) {}

  /** Checks every connection; `down` when any of them is, with per-connection status and latency. */
  async isHealthy<const Key extends string = 'redis'>(key: Key = 'redis' as Key): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.health.check(key);
    const results = await Promise.all(this.connections.list().map(async (c) => [c.name, await this.probe(c)] as const));
    const clients = Object.fromEntries(results);
    const allUp = results.every(([, r]) => r.status === 'up');
    return allUp ? indicator.up({ clients }) : indicator.down({ clients });
  }

  /** PINGs one connection with the module's health timeout. */
  async probe(c: TrackedConnection): Promise<RedisConnectionHealth> {
    const state = c.client.status;
    if (c.blocking) return { status: state === 'ready' ? 'up' : 'down', state };
    if (state !== 'ready') return { status: 'down', state, error: `connection is ${state}` };
    const started = performance.now();
    const timeoutMs = this.connections.options.healthTimeoutMs;
    try {
      await withTimeout(c.client.ping(), timeoutMs, () => new Error(`PING timed out after ${timeoutMs} ms`));
      return { status: 'up', state, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
    } catch (err) {
      return { status: 'down', state, error: err instanceof Error ? err.message : String(err) };
    }
  }
}
