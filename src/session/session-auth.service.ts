import { BadRequestException, Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import type { Cluster } from 'ioredis';
import { RedisService } from '../redis/redis.service';
import type { RedisClient } from '../redis/redis.options';
import { LoginThrottle } from './login.throttle';
import { RedisSessionStore, type SessionStoreStats } from './redis-session.store';
import { LOCAL_STRATEGY_NAME, SESSION_RESOLVED_OPTIONS, SESSION_STORE } from './session.constants';
import { LoginThrottledError } from './session.errors';
import { SessionIndex, type UserSessionEntry } from './session.index';
import type { ResolvedSessionOptions } from './session.options';
import { SessionUserLookup } from './session-user.lookup';

/** The one message for an unknown user and a wrong password (no user enumeration). */
export const INVALID_CREDENTIALS_MESSAGE = 'Invalid username or password';

/** Counters of the session feature since start, for a metrics module. */
export interface SessionStats extends Partial<SessionStoreStats> {
  /** Successful logins. */
  logins: number;
  /** Logins refused for a wrong username or password. */
  loginFailures: number;
  /** Logins refused by throttling (429). */
  throttled: number;
  /** Logouts. */
  logouts: number;
  /** Sessions revoked through the per-user index. */
  revoked: number;
}

/** A user's session as listed to that user. */
export interface ListedSession extends UserSessionEntry {
  /** True for the session of the request that asked. */
  current: boolean;
}

type SessionWithUser = session.Session & { passport?: { user?: unknown } };

/**
 * Login, logout and the per-user session list, on top of express-session + passport. Uses its own passport
 * `Authenticator` (not the process-wide singleton), so several Nest applications in one process do not overwrite
 * each other's strategies and serializers.
 */
@Injectable()
export class SessionAuthService<TUser extends object = object> {
  private readonly logger = new Logger('Session');
  private readonly counters = { logins: 0, loginFailures: 0, throttled: 0, logouts: 0, revoked: 0 };
  /** The passport instance of this module (strategy `nrk-local`, session serializer). */
  readonly passport: passport.Authenticator;
  private readonly client: RedisClient;
  private handlers: RequestHandler[] | undefined;

  constructor(
    @Inject(SESSION_RESOLVED_OPTIONS) readonly options: ResolvedSessionOptions,
    @Inject(SESSION_STORE) readonly store: session.Store,
    readonly index: SessionIndex,
    private readonly throttle: LoginThrottle,
    private readonly lookup: SessionUserLookup<TUser>,
    private readonly redis: RedisService,
  ) {
    this.client = redis.getClient(options.clientName);
    this.passport = new passport.Authenticator();
    this.passport.use(
      LOCAL_STRATEGY_NAME,
      new LocalStrategy({ passReqToCallback: true }, (req, username, password, done) => {
        this.verifyCredentials(username, password, req.ip ?? '').then(
          (user) => done(null, user),
          (err: unknown) => done(err),
        );
      }),
    );
    this.passport.serializeUser((user, done) => done(null, String(this.lookup.getId(user as TUser))));
    this.passport.deserializeUser((id: string, done) => {
      this.lookup.findById(String(id)).then(
        (user) => done(null, user ?? false),
        (err: unknown) => done(err),
      );
    });
  }

  /** express-session (our store, signed cookie) + passport.initialize() + passport.session(), in this order. */
  get middleware(): RequestHandler[] {
    if (!this.handlers) {
      const o = this.options;
      const sessionHandler = session({
        store: this.store,
        secret: o.secrets,
        name: o.cookieName,
        resave: false,
        saveUninitialized: false,
        rolling: o.rolling,
        unset: 'keep',
        cookie: {
          httpOnly: true,
          sameSite: o.sameSite,
          secure: o.secure,
          maxAge: o.ttlMs,
          path: o.path,
          domain: o.domain,
        },
      });
      this.handlers = [sessionHandler, this.passport.initialize(), this.passport.session()];
    }
    return this.handlers;
  }

  /** Counters since start, with the store's own when it is a {@link RedisSessionStore}. */
  get stats(): SessionStats {
    return { ...(this.store instanceof RedisSessionStore ? this.store.stats : {}), ...this.counters };
  }

  /**
   * Checks credentials with throttling: counts the attempt, asks the user lookup, resets the counter on success.
   * Throws {@link LoginThrottledError} (429) or UnauthorizedException (401, same message for every failure).
   */
  async verifyCredentials(username: string, password: string, ip: string): Promise<TUser> {
    try {
      await this.throttle.attempt(username, ip);
    } catch (err) {
      if (err instanceof LoginThrottledError) this.counters.throttled++;
      throw err;
    }
    const user = await this.lookup.validateCredentials(username, password);
    if (!user) {
      this.counters.loginFailures++;
      throw new UnauthorizedException(INVALID_CREDENTIALS_MESSAGE);
    }
    await this.throttle.reset(username, ip);
    return user;
  }

  /**
   * The whole login of one request: checks the body shape (400), runs the passport-local strategy (401/429),
   * logs the user in with a NEW session id (the old one is destroyed: session fixation) and records the session in
   * the user's index. Resolves the user.
   */
  async login(req: Request, res: Response): Promise<TUser> {
    this.assertCredentialsShape(req.body);
    const user = await this.runLocalStrategy(req, res).catch((err: unknown) => {
      if (err instanceof LoginThrottledError && !res.headersSent)
        res.setHeader('Retry-After', String(err.retryAfterSeconds));
      throw err;
    });
    await this.establish(req, user);
    return user;
  }

  private runLocalStrategy(req: Request, res: Response): Promise<TUser> {
    return new Promise<TUser>((resolve, reject) => {
      const next: NextFunction = (err?: unknown) =>
        reject(err ?? new UnauthorizedException(INVALID_CREDENTIALS_MESSAGE));
      const handler = this.passport.authenticate(
        LOCAL_STRATEGY_NAME,
        { session: false },
        (err: unknown, found: unknown) => {
          if (err) reject(err);
          else if (!found) reject(new UnauthorizedException(INVALID_CREDENTIALS_MESSAGE));
          else resolve(found as TUser);
        },
      ) as RequestHandler;
      void handler(req, res, next);
    });
  }

  /** Logs an already verified user in: regenerates the session id, saves, indexes it. */
  async establish(req: Request, user: TUser): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      req.logIn(user, { session: true, keepSessionInfo: false }, (err?: unknown) => (err ? reject(err) : resolve())),
    );
    const userId = String(this.lookup.getId(user));
    const maxAge = req.session.cookie.maxAge ?? this.options.ttlMs;
    await this.index.add(userId, req.sessionID, Date.now() + maxAge, {
      createdAt: new Date().toISOString(),
      userAgent: String(req.headers['user-agent'] ?? '').slice(0, 256),
      ip: req.ip ?? '',
    });
    this.counters.logins++;
  }

  /** Destroys the request's session, removes it from the index and clears the cookie. */
  async logout(req: Request, res: Response): Promise<void> {
    const userId = this.userIdOf(req);
    const sid = req.sessionID;
    if (req.session) {
      await new Promise<void>((resolve, reject) =>
        req.session.destroy((err?: unknown) => (err ? reject(err) : resolve())),
      );
    }
    if (userId && sid) await this.index.remove(userId, [sid]);
    req.user = undefined;
    res.clearCookie(this.options.cookieName, {
      path: this.options.path,
      domain: this.options.domain,
      httpOnly: true,
      sameSite: this.options.sameSite,
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
    await this.client.del(this.index.sessionKey(sid));
    await this.index.remove(userId, [sid]);
    this.counters.revoked++;
    return true;
  }

  /** Revokes every session of the user except `keepSid` (e.g. the current one); resolves how many. */
  async revokeOtherSessions(userId: string, keepSid?: string): Promise<number> {
    const ids = (await this.client.zrange(this.index.indexKey(userId), '0', '-1')).filter((id) => id !== keepSid);
    // One DEL per key: on Cluster the session keys live in different slots.
    await Promise.all(ids.map((id) => this.client.del(this.index.sessionKey(id))));
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
  async countActiveSessions(): Promise<number> {
    const prefix = this.redis.prefixFor('sess');
    const nodes = this.client.isCluster ? (this.client as Cluster).nodes('master') : [this.client];
    let count = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000');
        cursor = next;
        count += keys.filter((k) => !/[:{]/.test(k.slice(prefix.length))).length;
      } while (cursor !== '0');
    }
    return count;
  }

  private assertCredentialsShape(body: unknown): void {
    const errors: string[] = [];
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new BadRequestException(['body must be a JSON object with username and password']);
    }
    const b = body as Record<string, unknown>;
    const check = (field: 'username' | 'password', max: number) => {
      const v = b[field];
      if (v === undefined || v === null || v === '') errors.push(`${field} should not be empty`);
      else if (typeof v !== 'string') errors.push(`${field} must be a string`);
      else if (v.length > max) errors.push(`${field} must be shorter than or equal to ${max} characters`);
    };
    check('username', this.options.maxUsernameLength);
    check('password', this.options.maxPasswordLength);
    for (const key of Object.keys(b)) {
      if (key !== 'username' && key !== 'password') errors.push(`property ${key} should not exist`);
    }
    if (errors.length > 0) {
      this.logger.debug(`Login rejected: ${errors.join('; ')}`);
      throw new BadRequestException(errors);
    }
  }
}
