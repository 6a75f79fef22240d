import { toRedisUnavailable } from '../redis/redis.errors';
import type { RedisClient } from '../redis/redis.options';
import { LoginThrottledError } from './session.errors';
import { SessionKeys } from './session.keys';
import { LOGIN_ATTEMPT } from './session.scripts';

/**
 * Login throttling per username + IP in Redis: one counter key per pair (see {@link SessionKeys.loginAttempts}),
 * incremented atomically BEFORE the password is checked (so parallel guesses cannot overshoot), expiring
 * `windowMs` after the first attempt. Attempt `maxAttempts + 1` within the window is refused with
 * {@link LoginThrottledError}; a successful login deletes the counter. Redis unreachable: `RedisUnavailableError`
 * (a login is then refused, never let through unthrottled).
 */
export class LoginThrottle {
  private readonly keys: SessionKeys;

  /**
   * @param prefix the feature prefix, e.g. `nrk:sess:`
   * @param windowMs window of the counter in milliseconds, from the first attempt
   */
  constructor(
    private readonly client: RedisClient,
    prefix: string,
    private readonly maxAttempts: number,
    private readonly windowMs: number,
  ) {
    this.keys = new SessionKeys(prefix);
  }

  /** Redis key of one username + IP counter. */
  key(username: string, ip: string): string {
    return this.keys.loginAttempts(username, ip);
  }

  /** Counts one attempt; throws {@link LoginThrottledError} when the budget of the window is spent. */
  async attempt(username: string, ip: string): Promise<void> {
    let reply: [number, number];
    try {
      reply = await LOGIN_ATTEMPT.run<[number, number]>(this.client, [this.key(username, ip)], [this.windowMs]);
    } catch (err) {
      throw toRedisUnavailable(err, 'Could not count the login attempt');
    }
    const [count, ttlMs] = reply;
    if (count > this.maxAttempts) throw new LoginThrottledError(Math.max(1, ttlMs));
  }

  /** Forgets the failures of a username + IP (after a successful login). */
  async reset(username: string, ip: string): Promise<void> {
    try {
      await this.client.del(this.key(username, ip));
    } catch (err) {
      throw toRedisUnavailable(err, 'Could not reset the login attempts');
    }
  }
}
