import { Inject, Injectable } from '@nestjs/common';
import type { Request, RequestHandler, Response } from 'express';
import type session from 'express-session';
import type passport from 'passport';
import { toRedisUnavailable } from '../redis/redis.errors';
import { RedisService } from '../redis/redis.service';
import type { RedisClient } from '../redis/redis.options';
import { countActiveSessions } from './active-session.counter';
import { LoginThrottle } from './login.throttle';
import { RedisSessionStore, type SessionStoreStats } from './redis-session.store';
import { SESSION_RESOLVED_OPTIONS, SESSION_STORE } from './session.constants';
import { InvalidCredentialsError, LoginThrottledError, SessionLimitError } from './session.errors';
import { SessionIndex, type UserSessionEntry } from './session.index';
import { SessionKeys } from './session.keys';
import { createSessionMiddleware, sessionCookieOptions } from './session.middleware';
import type { ResolvedSessionOptions } from './session.options';
import { authenticateLocal, createSessionPassport } from './session.passport';
import { SessionUserLookup } from './session-user.lookup';

/** Counters of the session feature since start, for a metrics module. */
export interface SessionStats extends Partial<SessionStoreStats> {
  /** Successful logins. */
  logins: number;
  /** Logins refused for a wrong username or password. */
  loginFailures: number;
  /** Logins refused by throttling (429). */
  throttled: number;
  /** Logins let through without the failed-login throttle because Redis could not decide (`loginFailOpen`). */
  unthrottled: number;
  /** Logouts. */
  logouts: number;
  /** Sessions revoked through the per-user index. */
  revoked: number;
  /** Sessions ended to make room for a newer one of their user (`maxSessionsPerUser`, policy `evict-oldest`). */
  evicted: number;
  /** Logins refused because their user held `maxSessionsPerUser` sessions (policy `refuse-new`, 409). */
  refused: number;
}

/** A user's session as listed to that user. */
export interface ListedSession extends UserSessionEntry {
  /** True for the session of the request that asked. */
  current: boolean;
}

type SessionWithUser = session.Session & { passport?: { user?: unknown } };

/**
 * Login, logout and the per-user session list, on top of express-session + passport. Throws library errors
 * ({@link InvalidCredentialsError}, {@link LoginThrottledError}, `RedisUnavailableError`); the library's guards and
 * middleware turn them into HTTP answers, an application's exception filter can map them too.
 */
@Injectable()
export class SessionAuthService<TUser extends object = object> {
  private readonly counters = {
    logins: 0,
    loginFailures: 0,
    throttled: 0,
    logouts: 0,
    revoked: 0,
    evicted: 0,
    refused: 0,
  };
  /** The passport instance of this module (strategy `nrk-local`, session serializer). */
  readonly passport: passport.Authenticator;
  private readonly client: RedisClient;
  private readonly keys: SessionKeys;
  private handlers: RequestHandler[] | undefined;

  constructor(
    @Inject(SESSION_RESOLVED_OPTIONS) readonly options: ResolvedSessionOptions,
    @Inject(SESSION_STORE) readonly store: session.Store,
    readonly index: SessionIndex,
    private readonly throttle: LoginThrottle,
    private readonly lookup: SessionUserLookup<TUser>,
    redis: RedisService,
  ) {
    this.client = redis.getClient(options.clientName);
    this.keys = new SessionKeys(redis.prefixFor('sess'));
    this.passport = createSessionPassport(lookup, (username, password, ip) =>
      this.verifyCredentials(username, password, ip),
    );
  }

  /** express-session (our store, signed cookie) + passport.initialize() + passport.session(), in this order. */
  get middleware(): RequestHandler[] {
    this.handlers ??= createSessionMiddleware(this.options, this.store, this.passport);
    return this.handlers;
  }

  /** Counters since start, with the store's own when it is a {@link RedisSessionStore}. */
  get stats(): SessionStats {
    return {
      ...(this.store instanceof RedisSessionStore ? this.store.stats : {}),
      ...this.counters,
      unthrottled: this.throttle.stats.failedOpen,
    };
  }

  /**
   * Checks credentials with throttling: counts the attempt (the failed-login throttle, before the password check),
   * asks the user lookup, resets the count on success.
   * @throws LoginThrottledError, InvalidCredentialsError (one message for every wrong username or password),
   *   RedisUnavailableError
   */
  async verifyCredentials(username: string, password: string, ip: string): Promise<TUser> {
    let counted: boolean;
    try {
      counted = await this.throttle.attempt(username, ip);
    } catch (err) {
      if (err instanceof LoginThrottledError) this.counters.throttled++;
      throw err;
    }
    const user = await this.lookup.validateCredentials(username, password);
    if (!user) {
      this.counters.loginFailures++;
      throw new InvalidCredentialsError();
    }
    if (counted) await this.throttle.reset(username, ip);
    return user;
  }

  /**
   * The whole login of one request whose body holds `{username, password}` (checked at the edge: `LocalLoginGuard`
   * validates it first): runs the passport-local strategy, logs the user in with a NEW session id (the old one is
   * destroyed: session fixation) and records the session in the user's index. Resolves the user.
   * @throws the errors of {@link verifyCredentials}
   */
  async login(req: Request, res: Response): Promise<TUser> {
    const user = await authenticateLocal<TUser>(this.passport, req, res);
    await this.establish(req, user);
    return user;
  }

  /**
   * Logs an already verified user in: regenerates the session id, saves, indexes it. With `maxSessionsPerUser`, the
   * index admits it atomically (one Lua script per user, whatever the instance): under policy `evict-oldest` the
   * user's oldest sessions beyond the limit are deleted (their next request is anonymous), under `refuse-new` the new
   * session is destroyed again and {@link SessionLimitError} thrown.
   * @throws SessionLimitError, RedisUnavailableError
   */
  async establish(req: Request, user: TUser): Promise<void> {
    const previous = { sid: req.sessionID, userId: this.userIdOf(req) };
    await new Promise<void>((resolve, reject) =>
      req.logIn(user, { session: true, keepSessionInfo: false }, (err?: unknown) => (err ? reject(err) : resolve())),
    );
    // the login destroyed the request's previous session (fixation): it no longer counts for its user
    if (previous.userId !== undefined && previous.sid && previous.sid !== req.sessionID)
      await this.index.remove(previous.userId, [previous.sid]);
    const userId = String(this.lookup.getId(user));
    const { maxSessionsPerUser: maxSessions, sessionLimitPolicy, absoluteTimeoutMs } = this.options;
    const lifetimeMs = Math.min(req.session.cookie.maxAge ?? this.options.ttlMs, absoluteTimeoutMs ?? Infinity);
    if (maxSessions !== undefined) await this.index.prune(userId);
    const { admitted, evicted } = await this.index.admit(
      userId,
      req.sessionID,
      Date.now() + lifetimeMs,
      {
        createdAt: new Date().toISOString(),
        userAgent: String(req.headers['user-agent'] ?? '').slice(0, 256),
        ip: req.ip ?? '',
      },
      maxSessions === undefined ? undefined : { maxSessions, evictOldest: sessionLimitPolicy === 'evict-oldest' },
    );
    if (!admitted) {
      await destroySession(req);
      req.user = undefined;
      this.counters.refused++;
      throw new SessionLimitError(maxSessions ?? 0);
    }
    if (evicted.length > 0) {
      this.counters.evicted += evicted.length;
      await this.deleteSessions(evicted);
    }
    this.counters.logins++;
  }

  /** Destroys the request's session, removes it from the index and clears the cookie. */
  async logout(req: Request, res: Response): Promise<void> {
    const userId = this.userIdOf(req);
    const sid = req.sessionID;
    if (req.session) await destroySession(req);
    if (userId && sid) await this.index.remove(userId, [sid]);
    req.user = undefined;
    // `secure: 'auto'` follows the request's protocol when setting; clearing needs a plain boolean
    res.clearCookie(this.options.cookieName, {
      ...sessionCookieOptions(this.options),
      secure: this.options.secure === true,
    });
    this.counters.logouts++;
  }

  /** The user id stored in the request's session, or undefined when not logged in. */
  userIdOf(req: Request): string | undefined {
    const id = (req.session as SessionWithUser | undefined)?.passport?.user;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
  }

  /** The user's live sessions, newest first, the current one marked. */
  async listSessions(userId: string, currentSid?: string): Promise<ListedSession[]> {
    const entries = await this.index.list(userId);
    return entries.map((e) => ({ ...e, current: e.id === currentSid }));
  }

  /** Revokes one session of the user; false when it is not one of theirs (→ 404). Effective on the next request. */
  async revokeSession(userId: string, sid: string): Promise<boolean> {
    if (!(await this.index.has(userId, sid))) return false;
    await this.deleteSessions([sid]);
    await this.index.remove(userId, [sid]);
    this.counters.revoked++;
    return true;
  }

  /** Revokes every session of the user except `keepSid` (e.g. the current one); resolves how many. */
  async revokeOtherSessions(userId: string, keepSid?: string): Promise<number> {
    const ids = (await this.index.ids(userId)).filter((id) => id !== keepSid);
    await this.deleteSessions(ids);
    await this.index.remove(userId, ids);
    this.counters.revoked += ids.length;
    return ids.length;
  }

  /** Revokes every session of the user (e.g. after a password change). */
  revokeAllSessions(userId: string): Promise<number> {
    return this.revokeOtherSessions(userId);
  }

  /**
   * Counts the sessions in Redis with SCAN (every master on Cluster). O(keys): call it on demand (a metrics scrape),
   * not per request.
   */
  countActiveSessions(): Promise<number> {
    return countActiveSessions(this.client, this.keys);
  }

  /** Deletes session keys, one DEL each (on a Cluster they live in different slots). */
  private async deleteSessions(ids: string[]): Promise<void> {
    try {
      await Promise.all(ids.map((id) => this.client.del(this.keys.session(id))));
    } catch (err) {
      throw toRedisUnavailable(err, 'Could not revoke the sessions');
    }
  }
}

/** Destroys the request's session (its key in the store) and resolves once done. */
function destroySession(req: Request): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    req.session.destroy((err?: unknown) => (err ? reject(err) : resolve())),
  );
}
