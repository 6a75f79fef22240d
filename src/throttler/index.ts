export {
  RedisThrottlerStorage,
  type RedisThrottlerStorageOptions,
  type RedisThrottlerRecord,
} from './redis-throttler.storage';
