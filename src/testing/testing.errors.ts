/** What `nest-redis-kit/testing` says when `redis-server` is not installed. */
export const REDIS_SERVER_NOT_FOUND_MESSAGE =
  'nest-redis-kit/testing starts real Redis servers and needs the redis-server binary on PATH ' +
  '(apt-get install redis-server, brew install redis, or the `binary` option for another path or a compatible server)';

/** Thrown when the redis-server binary (or the `binary` option's) cannot be run: not installed or not on PATH. */
export class RedisServerNotFoundError extends Error {
  /** @param binary the program that could not be run */
  constructor(readonly binary: string) {
    super(`${REDIS_SERVER_NOT_FOUND_MESSAGE}: could not run "${binary}"`);
    this.name = 'RedisServerNotFoundError';
  }
}
