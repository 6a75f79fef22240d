import { RateDecider } from '../core/rate-decision';
import { DecisionRunner } from '../core/rate-decision.runner';
import { RedisUnavailableError } from '../redis/redis.errors';
import type { RedisClient } from '../redis/redis.options';
import { LoginThrottledError } from './session.errors';
import { SessionKeys } from './session.keys';

/** Options of a {@link LoginThrottle} beyond its limit (the module passes `loginFailOpen` / `loginTimeoutMs`). */
export interface LoginThrottleOptions {
  /**
   * When Redis cannot decide (down, or no answer within `timeoutMs`): `false` (default) refuses the login with
   * `RedisUnavailableError` (503), `true` lets it through unthrottled (counted in {@link LoginThrottle.stats}).
   */
  failOpen?: boolean;
  /** Longest wait for Redis per attempt, in milliseconds (default 250), on the shared deadline sweeper. */
  timeoutMs?: number;
}

/** Counters of a {@link LoginThrottle} since start. */
export interface LoginThrottleStats {
  /** Attempts let through unthrottled because Redis could not decide (`failOpen: true`). */
  failedOpen: number;
  /** Attempts Redis could not decide: an error, no answer within `timeoutMs`, or not connected. */
  errors: number;
  /** Transitions from "Redis works" to "Redis fails" (each outage counted once). */
  outages: number;
}

/**
 * The failed-login throttle: a rate limit per username + IP on the shared rate decisions (`src/core`), algorithm
 * **fixed window** anchored at the first attempt: `maxAttempts` attempts per `windowMs`, counted atomically BEFORE the
 * password is checked (so parallel guesses cannot overshoot), one Lua call on the Redis clock. Attempt
 * `maxAttempts + 1` within the window is refused with {@link LoginThrottledError} (retry when the window ends); a
 * successful login resets the count. Key: `<prefix>sess:{login:<digest of username + IP>}` (see {@link key}).
 * When Redis cannot decide within `timeoutMs`, it fails closed by default (`RedisUnavailableError`: a login is never
 * let through unthrottled), or open with `failOpen: true`.
 */
export class LoginThrottle {
  private readonly decider: RateDecider;
  private readonly failOpen: boolean;
  private readonly keys: SessionKeys;
  private failedOpenCount = 0;

  /**
   * @param client the client the counters live on (or a function returning it)
   * @param prefix the feature prefix, e.g. `nrk:sess:`
   * @param maxAttempts attempts allowed per window and username + IP
   * @param windowMs window of the count in milliseconds, from the first attempt
   * @param options fail mode and deadline (see {@link LoginThrottleOptions})
   */
  constructor(
    client: RedisClient | (() => RedisClient),
    prefix: string,
    maxAttempts: number,
    windowMs: number,
    options: LoginThrottleOptions = {},
  ) {
    this.keys = new SessionKeys(prefix);
    this.failOpen = options.failOpen ?? false;
    const runner = new DecisionRunner(typeof client === 'function' ? client : () => client, {
      timeoutMs: options.timeoutMs ?? 250,
      subject: 'the login throttle',
      fallback: this.failOpen ? 'logins are let through unthrottled' : 'logins are refused (503)',
      loggerName: 'LoginThrottle',
    });
    this.decider = new RateDecider(
      { algorithm: 'fixed-window', limit: maxAttempts, windowMs, ratePerSec: undefined },
      runner,
    );
  }

  /** Counters since start (a fresh copy). */
  get stats(): LoginThrottleStats {
    const { errors, outages } = this.decider.runner.breaker.stats;
    return { failedOpen: this.failedOpenCount, errors, outages };
  }

  /** Redis key of one username + IP count (see {@link SessionKeys.loginAttempts}). */
  key(username: string, ip: string): string {
    return this.keys.loginAttempts(username, ip);
  }

  /**
   * Counts one attempt. Resolves true when it was counted, false when Redis could not decide and it was let through
   * unthrottled (`failOpen`: nothing to reset after a success).
   * @throws LoginThrottledError when the attempts of the window are spent (`retryAfterMs`: until the window ends)
   * @throws RedisUnavailableError when Redis cannot decide within `timeoutMs` and the throttle fails closed
   */
  async attempt(username: string, ip: string): Promise<boolean> {
    const reply = await this.decider.decide(this.key(username, ip), 1);
    if (reply instanceof RedisUnavailableError) {
      if (!this.failOpen) throw reply;
      this.failedOpenCount++;
      return false;
    }
    const [allowed, , , retryAfterMs] = reply;
    if (Number(allowed) !== 1) throw new LoginThrottledError(Math.max(1, Number(retryAfterMs)));
    return true;
  }

  /**
   * Forgets the attempts of a username + IP (after a successful login). Failing open, a Redis that cannot be reached
   * is no error: the count ends with its window.
   * @throws RedisUnavailableError when Redis cannot be reached and the throttle fails closed
   */
  async reset(username: string, ip: string): Promise<void> {
    try {
      await this.decider.reset(this.key(username, ip), 'the login attempts');
    } catch (err) {
      if (!(this.failOpen && err instanceof RedisUnavailableError)) throw err;
    }
  }
}
