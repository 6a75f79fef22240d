export { RedisModule } from './redis.module';
export { RedisService } from './redis.service';
export { RedisHealthIndicator, type RedisConnectionHealth } from './redis.health';
export { InjectRedis } from './inject-redis.decorator';
export { DEFAULT_REDIS_CLIENT, DEFAULT_KEY_PREFIX, getRedisClientToken } from './redis.constants';
export {
  RedisUnavailableError,
  RedisTimeoutError,
  RedisConfigError,
  isRedisConnectionError,
  toRedisUnavailable,
} from './redis.errors';
export type { RedisClient, RedisConnectionOptions, RedisModuleOptions, RedisNodeAddress } from './redis.options';
export type { DuplicateOptions, TrackedConnection } from './redis.connections';
export type { RedisModuleExtras } from './redis.module-definition';
export { resolveRedisModuleOptions } from './redis.validation';
