import type { ConfigService } from '@nestjs/config';
import type { RedisConnectionOptions, RedisNodeAddress } from '../../index';
import type { AppConfig } from './app.config';

/** `host:port,host:port` (validated by AppConfig) as addresses. */
function parseAddresses(list: string): RedisNodeAddress[] {
  return list.split(',').map((s) => {
    const i = s.lastIndexOf(':');
    return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
  });
}

/**
 * RedisModule connection options from the environment: REDIS_URL; or with REDIS_SENTINELS the Sentinel group
 * REDIS_SENTINEL_NAME (the user, password, db and TLS of REDIS_URL, if given, still apply to the master); or with
 * REDIS_CLUSTER_NODES the Redis Cluster reached through those seed nodes (REDIS_URL's user, password and TLS
 * still apply to every node; a Cluster has only database 0).
 */
export function redisConnectionFromConfig(config: ConfigService<AppConfig, true>): RedisConnectionOptions {
  const url = config.get('REDIS_URL', { infer: true }) ?? 'redis://127.0.0.1:6379';
  const sentinels = config.get('REDIS_SENTINELS', { infer: true });
  const clusterNodes = config.get('REDIS_CLUSTER_NODES', { infer: true });
  let options: RedisConnectionOptions;
  if (clusterNodes) options = { nodes: parseAddresses(clusterNodes) };
  else if (sentinels)
    options = { sentinels: parseAddresses(sentinels), name: config.get('REDIS_SENTINEL_NAME', { infer: true }) };
  else return { url };
  const parsed = new URL(url);
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.replace(/^\//, '');
  if (db && !clusterNodes) options.db = Number(db);
  if (parsed.protocol === 'rediss:') options.tls = true;
  return options;
}
