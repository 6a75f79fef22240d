export {
  RedisThrottlerStorage,
  type RedisThrottlerStorageOptions,
  type RedisThrottlerRecord,
  type RedisThrottlerStats,
} from './redis-throttler.storage';
