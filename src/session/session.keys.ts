import { createHash } from 'node:crypto';
import { rateStateKey } from '../core/rate-decision';

/**
 * Every Redis key the session feature writes, under its feature prefix (`<prefix>sess:`):
 * - `<p><sid>`: one session's JSON (express-session's id: base64url, no `:` or `{`);
 * - `<p>{user:<id>}:index`, `<p>{user:<id>}:meta` and `<p>{user:<id>}:created`: a user's session index, all in the
 *   slot of the hash tag `{user:<id>}` so that the index scripts can update them together on a Cluster;
 * - `<p>{login:<digest>}`: the failed-login count of one username + IP, written by `LoginThrottle` (the shared
 *   rate-decision layout; hashed: usernames are user input).
 */
export class SessionKeys {
  /** @param prefix the feature prefix, e.g. `nrk:sess:` */
  constructor(readonly prefix: string) {}

  /** Key of one session's data. */
  session(sid: string): string {
    return `${this.prefix}${sid}`;
  }

  /** Key of a user's sorted set of sessions (member = session id, score = expiry in epoch ms). */
  userIndex(userId: string): string {
    return `${this.prefix}{user:${userId}}:index`;
  }

  /** Key of a user's hash of session metadata (session id → JSON). */
  userMeta(userId: string): string {
    return `${this.prefix}{user:${userId}}:meta`;
  }

  /** Key of a user's sorted set of session creation times (member = session id, score = Redis time in µs). */
  userCreated(userId: string): string {
    return `${this.prefix}{user:${userId}}:created`;
  }

  /**
   * Key of the failed-login count of one username (case-insensitive) from one IP address, in the shared rate-decision
   * layout: `<prefix>{login:<32 hex of sha256(username, ip)>}` (the fixed window's `:block` marker would share it).
   */
  loginAttempts(username: string, ip: string): string {
    const digest = createHash('sha256').update(`${username.toLowerCase()}\u0000${ip}`).digest('hex').slice(0, 32);
    return rateStateKey(this.prefix, 'login', digest);
  }

  /** SCAN pattern that matches every key of the feature (sessions and the rest: see {@link isSession}). */
  get scanPattern(): string {
    return `${this.prefix}*`;
  }

  /** True for a session key among the keys {@link scanPattern} matches (index and login keys are not). */
  isSession(key: string): boolean {
    return key.startsWith(this.prefix) && !/[:{]/.test(key.slice(this.prefix.length));
  }
}
