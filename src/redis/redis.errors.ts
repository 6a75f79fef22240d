/** Redis could not be reached (down, timed out, failing over). Callers may retry later; HTTP maps it to 503. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  /**
   * @param message what was attempted and why it failed
   * @param cause the underlying ioredis error, when there is one
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** RedisModule (or a feature module) was given options it cannot work with; thrown at startup. */
export class RedisConfigError extends Error {
  override readonly name = 'RedisConfigError';
  /**
   * @param option dotted path of the offending option, e.g. `clients.default.url`
   * @param problem what is wrong with it
   */
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`Invalid option "${option}": ${problem}`);
  }
}

/**
 * Tells whether an error means "Redis is not reachable right now" (connection refused or closed,
 * command timeout, offline queue off, retries exhausted, cluster down, failover in progress)
 * rather than a bad command or bad data.
 */
export function isRedisConnectionError(err: unknown): boolean {
  if (err instanceof RedisUnavailableError) return true;
  if (!(err instanceof Error)) return false;
  const text = `${err.name} ${err.message}`;
  return /MaxRetriesPerRequest|Command timed out|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|enableOfflineQueue|Stream isn't writeable|CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY|Failed to refresh slots cache|None of startup nodes is available|All sentinels are unreachable|Too many Cluster redirections|connect ETIMEDOUT|Connection timeout/i.test(
    text,
  );
}
