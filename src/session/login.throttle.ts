import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/redis.options';
import { LoginThrottledError } from './session.errors';

const ATTEMPT_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

interface ThrottleCommands {
  nrkSessLoginAttempt(key: string, windowMs: number): Promise<[number, number]>;
}

/**
 * Login throttling per username + IP in Redis: one counter key `<prefix>login:<sha256(username, ip)>` incremented
 * atomically BEFORE the password is checked (so parallel guesses cannot overshoot), expiring `windowMs` after the
 * first attempt. Attempt `maxAttempts + 1` within the window is refused with {@link LoginThrottledError}; a
 * successful login deletes the counter.
 */
export class LoginThrottle {
  constructor(
    private readonly client: RedisClient,
    /** Feature prefix, e.g. `nrk:sess:`. */
    private readonly prefix: string,
    private readonly maxAttempts: number,
    private readonly windowMs: number,
  ) {
    if (!(client as RedisClient & Partial<ThrottleCommands>).nrkSessLoginAttempt)
      client.defineCommand('nrkSessLoginAttempt', { numberOfKeys: 1, lua: ATTEMPT_LUA });
  }

  /** Redis key of one username + IP counter (hashed: usernames are user input). */
  key(username: string, ip: string): string {
    const digest = createHash('sha256').update(`${username.toLowerCase()}\u0000${ip}`).digest('hex').slice(0, 32);
    return `${this.prefix}login:${digest}`;
  }

  /** Counts one attempt; throws {@link LoginThrottledError} when the budget of the window is spent. */
  async attempt(username: string, ip: string): Promise<void> {
    const [count, ttlMs] = await (this.client as unknown as ThrottleCommands).nrkSessLoginAttempt(
      this.key(username, ip),
      this.windowMs,
    );
    if (count > this.maxAttempts) throw new LoginThrottledError(Math.max(1, ttlMs));
  }

  /** Forgets the failures of a username + IP (after a successful login). */
  async reset(username: string, ip: string): Promise<void> {
    await this.client.del(this.key(username, ip));
  }
}
