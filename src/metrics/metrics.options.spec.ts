import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisConfigError } from '../redis/redis.errors';
import { DEFAULT_COMMAND_BUCKETS_SECONDS } from './metrics.constants';
import { resolveMetricsOptions } from './metrics.options';

describe('resolveMetricsOptions', () => {
  it('applies the defaults', () => {
    expect(resolveMetricsOptions()).toEqual({
      prefix: 'nrk_',
      registry: undefined,
      defaultMetrics: true,
      commandLatency: true,
      commandBucketsSeconds: DEFAULT_COMMAND_BUCKETS_SECONDS,
      pingOnScrape: true,
    });
    expect(resolveMetricsOptions({ commandBucketsSeconds: [1, 0.5] }).commandBucketsSeconds).toEqual([0.5, 1]);
  });

  it('refuses bad options with a RedisConfigError naming the option', () => {
    expect(() => resolveMetricsOptions({ prefix: '1x' })).toThrow(RedisConfigError);
    expect(() => resolveMetricsOptions({ prefix: 'my-app_' })).toThrow(/"metrics\.prefix"/);
    expect(() => resolveMetricsOptions({ commandBucketsSeconds: [] })).toThrow(/"metrics\.commandBucketsSeconds"/);
    expect(() => resolveMetricsOptions({ commandBucketsSeconds: [0.1, 0] })).toThrow(
      /"metrics\.commandBucketsSeconds\[1\]": must be a positive, finite number of seconds, got 0/,
    );
    expect(() => resolveMetricsOptions({ pingOnScrape: 'yes' as never })).toThrow(/"metrics\.pingOnScrape"/);
  });
});

describe('MetricsModule dependencies', () => {
  it('imports no feature folder: features register their own metrics providers', () => {
    const offending = readdirSync(__dirname)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) =>
        [
          ...readFileSync(join(__dirname, f), 'utf8').matchAll(
            /from '\.\.\/(cache|lock|messaging|session|throttler)\b/g,
          ),
        ].map((m) => `${f}: ${m[0]}`),
      );
    expect(offending).toEqual([]);
  });
});
