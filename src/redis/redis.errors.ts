/** Redis could not be reached (down, timed out, failing over). Callers may retry later; HTTP maps it to 503. */
export class RedisUnavailableError extends Error {
  override readonly name: string = 'RedisUnavailableError';
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
 * A Redis command (or a group of them) got no answer within the library's own bound. A
 * {@link RedisUnavailableError}, so callers and the HTTP filter treat it as "Redis unavailable" without
 * looking at its message.
 */
export class RedisTimeoutError extends RedisUnavailableError {
  override readonly name: string = 'RedisTimeoutError';
  /** @param timeoutMs the bound that passed, in milliseconds */
  constructor(
    readonly timeoutMs: number,
    what = 'Redis',
  ) {
    super(`No answer from ${what} within ${timeoutMs} ms`);
  }
}

/**
 * ioredis reports connection trouble as plain `Error`s (or `ReplyError`s for CLUSTERDOWN, LOADING...) that
 * only their text tells apart; this is the one place that reads that text. Errors made by this library are
 * typed ({@link RedisUnavailableError}) and need no matching.
 */
const CONNECTION_ERROR_TEXT =
  /MaxRetriesPerRequest|Command timed out|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|enableOfflineQueue|Stream isn't writeable|CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY|Failed to refresh slots cache|None of startup nodes is available|All sentinels are unreachable|Too many Cluster redirections|connect ETIMEDOUT|Connection timeout/i;

/**
 * Tells whether an error means "Redis is not reachable right now" (connection refused or closed,
 * command timeout, offline queue off, retries exhausted, cluster down, failover in progress)
 * rather than a bad command or bad data.
 */
export function isRedisConnectionError(err: unknown): boolean {
  if (err instanceof RedisUnavailableError) return true;
  if (!(err instanceof Error)) return false;
  return CONNECTION_ERROR_TEXT.test(`${err.name} ${err.message}`);
}

/**
 * `err` as a {@link RedisUnavailableError} when it means Redis is unreachable (kept as is when it already is
 * one; otherwise a new one saying `what` failed, with `err` as its cause); any other error unchanged.
 * @param what the operation, e.g. `Could not acquire the lock on order:1`
 */
export function toRedisUnavailable(err: unknown, what: string): unknown {
  if (err instanceof RedisUnavailableError) return err;
  if (!isRedisConnectionError(err)) return err;
  return new RedisUnavailableError(`${what}: ${(err as Error).message}`, { cause: err });
}
