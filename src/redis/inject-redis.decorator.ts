import { Inject } from '@nestjs/common';
import { DEFAULT_REDIS_CLIENT, getRedisClientToken } from './redis.constants';

/** Client names asked for by `@InjectRedis(name)`; RedisModule provides a token for each. */
export const requestedClientNames = new Set<string>([DEFAULT_REDIS_CLIENT]);

/**
 * Injects a shared ioredis client (`Redis` or `Cluster`) configured in RedisModule.
 * @param name client name, `default` when omitted
 */
export function InjectRedis(name: string = DEFAULT_REDIS_CLIENT): PropertyDecorator & ParameterDecorator {
  requestedClientNames.add(name);
  return Inject(getRedisClientToken(name));
}
