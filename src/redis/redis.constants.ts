/** Name of the client every feature uses unless told otherwise. */
export const DEFAULT_REDIS_CLIENT = 'default';

/** Key prefix used when the options name none. Every key the library writes starts with it. */
export const DEFAULT_KEY_PREFIX = 'nrk:';

/** Injection token of the validated RedisModule options. */
export const REDIS_MODULE_OPTIONS = 'nest-redis-kit:redis:options';

/** Injection token of the connection registry (internal: resolved once every client is ready). */
export const REDIS_CONNECTIONS = 'nest-redis-kit:redis:connections';

/**
 * Injection token of a named client, readable in Nest's error messages.
 * @param name client name; `default` when omitted.
 */
export function getRedisClientToken(name: string = DEFAULT_REDIS_CLIENT): string {
  return `nest-redis-kit:client:${name}`;
}
