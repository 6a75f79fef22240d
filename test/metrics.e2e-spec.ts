import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  FeatureMetricsProvider,
  MetricsModule,
  MetricsService,
  RedisModule,
  RedisService,
  statsCounters,
  type FeatureMetric,
  type FeatureMetricsSource,
} from '../src';
import { startRedis, uniquePrefix, type RedisServer } from './support/redis-harness';

/** A feature with the `stats` getter the library's features expose. */
@Injectable()
class FakeFeature {
  private counters = { done: 0 };
  get stats() {
    return { ...this.counters };
  }
  work(): void {
    this.counters.done += 1;
  }
}

/** The feature's metrics, contributed the way the library's features do it (and an application can). */
@FeatureMetricsProvider()
@Injectable()
class FakeFeatureMetrics implements FeatureMetricsSource {
  constructor(private readonly feature: FakeFeature) {}
  metrics(): FeatureMetric[] {
    return [
      ...statsCounters('fake', () => this.feature.stats, { done: { help: 'work done' } }),
      {
        name: 'fake_lag',
        help: 'labelled gauge',
        type: 'gauge',
        labelNames: ['stream'],
        collect: () => [{ labels: { stream: 'orders' }, value: 3 }],
      },
      {
        name: 'fake_broken',
        help: 'a reader that fails',
        type: 'gauge',
        collect: () => Promise.reject(new Error('cannot read')),
      },
    ];
  }
}

/** Never provided: its metric must simply be absent. */
@FeatureMetricsProvider()
@Injectable()
class MissingFeatureMetrics implements FeatureMetricsSource {
  metrics(): FeatureMetric[] {
    return [{ name: 'missing_total', help: 'absent', type: 'counter', collect: () => 1 }];
  }
}

/** Value of one sample in Prometheus text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('MetricsModule', () => {
  let server: RedisServer;
  let app: INestApplication;

  beforeAll(async () => {
    server = await startRedis();
    const ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ url: server.url, keyPrefix: uniquePrefix('metrics') }),
        MetricsModule.forRoot({ defaultMetrics: false }),
      ],
      providers: [FakeFeature, FakeFeatureMetrics],
    }).compile();
    app = ref.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  it('serves the Prometheus text format at GET /metrics', async () => {
    const res = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('# TYPE nrk_redis_connection_up gauge');
    expect(sample(res.text, 'nrk_redis_connection_up', { client: 'default', state: 'ready' })).toBe(1);
    expect(sample(res.text, 'nrk_redis_ping_seconds', { client: 'default' })).toBeGreaterThan(0);
  });

  it('times Redis commands per client and command, and counts failures', async () => {
    const redis = app.get(RedisService);
    const client = redis.getClient();
    const before = await app.get(MetricsService).scrape();
    const countBefore =
      sample(before, 'nrk_redis_command_duration_seconds_count', { client: 'default', command: 'set' }) ?? 0;
    await client.set(redis.prefixFor('m') + 'a', '1');
    await client.set(redis.prefixFor('m') + 'b', '2');
    await client
      .pipeline()
      .set(redis.prefixFor('m') + 'c', '3')
      .get(redis.prefixFor('m') + 'c')
      .exec();
    await expect(client.call('NOSUCHCOMMAND')).rejects.toThrow();
    const after = (await request(app.getHttpServer()).get('/metrics').expect(200)).text;
    expect(sample(after, 'nrk_redis_command_duration_seconds_count', { client: 'default', command: 'set' })).toBe(
      countBefore + 3,
    );
    expect(sample(after, 'nrk_redis_command_duration_seconds_count', { client: 'default', command: 'get' })).toBe(1);
    expect(sample(after, 'nrk_redis_command_errors_total', { command: 'nosuchcommand' })).toBe(1);
    // The PINGs of the scrapes themselves are reported as nrk_redis_ping_seconds, not as command latency.
    expect(
      sample(after, 'nrk_redis_command_duration_seconds_count', { client: 'default', command: 'ping' }),
    ).toBeUndefined();
  });

  it('reads feature metrics providers at scrape time; a feature the app lacks is absent', async () => {
    const feature = app.get(FakeFeature);
    const first = (await request(app.getHttpServer()).get('/metrics')).text;
    expect(first).toContain('# TYPE nrk_fake_done_total counter');
    const n0 = sample(first, 'nrk_fake_done_total') ?? 0;
    feature.work();
    feature.work();
    const second = (await request(app.getHttpServer()).get('/metrics')).text;
    expect(sample(second, 'nrk_fake_done_total')).toBe(n0 + 2);
    expect(sample(second, 'nrk_fake_lag', { stream: 'orders' })).toBe(3);
    expect(second).not.toMatch(/^nrk_missing_total/m);
    expect(new MissingFeatureMetrics().metrics()).toHaveLength(1); // defined, only not provided
    // no feature module imported: none of the library's feature metrics
    expect(second).not.toMatch(/^nrk_(cache|session|messaging|lock)_/m);
    // a reader that fails leaves its metric without samples, and the scrape goes on
    expect(second).toContain('# TYPE nrk_fake_broken gauge');
    expect(second).not.toMatch(/^nrk_fake_broken /m);
  });

  it('reports a connection that is down as 0 without failing the scrape', async () => {
    await server.pause();
    try {
      const res = await request(app.getHttpServer()).get('/metrics').expect(200);
      expect(res.text).toContain('nrk_redis_connection_up');
      expect(sample(res.text, 'nrk_redis_ping_seconds', { client: 'default' })).toBeUndefined();
    } finally {
      await server.resume();
    }
  });
});
