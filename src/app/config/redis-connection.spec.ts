import type { ConfigService } from '@nestjs/config';
import { parseCorsOrigins } from '../security/http-hardening';
import type { AppConfig } from './app.config';
import { redisConnectionFromConfig } from './redis-connection';

const config = (values: Record<string, unknown>) =>
  ({ get: (key: string) => values[key] }) as unknown as ConfigService<AppConfig, true>;

describe('redisConnectionFromConfig', () => {
  it('uses REDIS_URL (default redis://127.0.0.1:6379) without Sentinels', () => {
    expect(redisConnectionFromConfig(config({}))).toEqual({ url: 'redis://127.0.0.1:6379' });
    expect(redisConnectionFromConfig(config({ REDIS_URL: 'rediss://h:1/2' }))).toEqual({ url: 'rediss://h:1/2' });
  });

  it('goes through REDIS_SENTINELS, keeping the user, password, db and TLS of REDIS_URL', () => {
    expect(
      redisConnectionFromConfig(
        config({
          REDIS_URL: 'rediss://kit:p%40ss@ignored:6379/3',
          REDIS_SENTINELS: 's1:26379,10.0.0.2:26380',
          REDIS_SENTINEL_NAME: 'main',
        }),
      ),
    ).toEqual({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
      ],
      name: 'main',
      username: 'kit',
      password: 'p@ss',
      db: 3,
      tls: true,
    });
  });
});

describe('parseCorsOrigins', () => {
  it('is off when unset, any origin for *, else the trimmed list', () => {
    expect(parseCorsOrigins(undefined)).toBeUndefined();
    expect(parseCorsOrigins(' ')).toBeUndefined();
    expect(parseCorsOrigins('*')).toBe(true);
    expect(parseCorsOrigins('https://a.example/, https://b.example')).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
  });
});
