import type { ConfigService } from '@nestjs/config';
import { parseCorsOrigins } from '../security/http-hardening';
import { validateConfig, type AppConfig } from './app.config';
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

  it('goes through REDIS_CLUSTER_NODES, keeping the user, password and TLS of REDIS_URL (no db on a Cluster)', () => {
    expect(
      redisConnectionFromConfig(
        config({
          REDIS_URL: 'rediss://kit:p%40ss@ignored:6379/0',
          REDIS_CLUSTER_NODES: 'node-1:7000,10.0.0.3:7001,node-3:7002',
        }),
      ),
    ).toEqual({
      nodes: [
        { host: 'node-1', port: 7000 },
        { host: '10.0.0.3', port: 7001 },
        { host: 'node-3', port: 7002 },
      ],
      username: 'kit',
      password: 'p@ss',
      tls: true,
    });
    expect(redisConnectionFromConfig(config({ REDIS_CLUSTER_NODES: 'h:7000' }))).toEqual({
      nodes: [{ host: 'h', port: 7000 }],
    });
  });
});

describe('validateConfig: how to reach Redis', () => {
  it('accepts REDIS_CLUSTER_NODES as host:port,host:port, refuses anything else naming the variable', () => {
    expect(validateConfig({ REDIS_CLUSTER_NODES: 'a:7000,10.0.0.2:7001' }).REDIS_CLUSTER_NODES).toBe(
      'a:7000,10.0.0.2:7001',
    );
    for (const bad of ['a', 'a:', 'a:7000,', 'redis://a:7000', 'a:7000;b:7001', 'a: 7000'])
      expect(() => validateConfig({ REDIS_CLUSTER_NODES: bad })).toThrow(
        /REDIS_CLUSTER_NODES must look like host:port,host:port/,
      );
  });

  it('refuses REDIS_CLUSTER_NODES with REDIS_SENTINELS, and a database other than 0 on a Cluster', () => {
    expect(() => validateConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINELS: 's:26379' })).toThrow(
      /REDIS_CLUSTER_NODES: cannot be combined with REDIS_SENTINELS/,
    );
    expect(() => validateConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'redis://u:p@h:6379/2' })).toThrow(
      /REDIS_URL: database 2 with REDIS_CLUSTER_NODES; a Redis Cluster has only database 0/,
    );
    expect(validateConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'redis://u:p@h:6379/0' })).toBeDefined();
    // listed with the other problems, in one message
    expect(() => validateConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINELS: 's:1', PORT: '-1' })).toThrow(
      /Invalid configuration:[\s\S]*PORT[\s\S]*REDIS_CLUSTER_NODES: cannot be combined/,
    );
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
