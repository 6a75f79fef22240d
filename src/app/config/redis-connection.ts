import type { ConfigService } from '@nestjs/config';
import type { RedisConnectionOptions } from '../../index';
import type { AppConfig } from './app.config';

/**
 * RedisModule connection options from the environment: REDIS_URL, or with REDIS_SENTINELS the Sentinel
 * group REDIS_SENTINEL_NAME (the user, password, db and TLS of REDIS_URL, if given, still apply to the master).
 */
export function redisConnectionFromConfig(config: ConfigService<AppConfig, true>): RedisConnectionOptions {
  const url = config.get('REDIS_URL', { infer: true }) ?? 'redis://127.0.0.1:6379';
  const sentinels = config.get('REDIS_SENTINELS', { infer: true });
  if (!sentinels) return { url };
  const parsed = new URL(url);
  const options: RedisConnectionOptions = {
    sentinels: sentinels.split(',').map((s) => {
      const i = s.lastIndexOf(':');
      return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
    }),
    name: config.get('REDIS_SENTINEL_NAME', { infer: true }),
  };
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.replace(/^\//, '');
  if (db) options.db = Number(db);
  if (parsed.protocol === 'rediss:') options.tls = true;
  return options;
}
