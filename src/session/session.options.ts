import { RequestMethod, type Type } from '@nestjs/common';
import { check } from '../core/option-checker';
import type { SessionUserLookup } from './session-user.lookup';

/** Options of `SessionModule.forRoot()` / `forRootAsync()`. Durations in milliseconds. */
export interface SessionModuleOptions {
  /**
   * Secrets that sign the session cookie: the first signs, every one verifies, so a secret is rotated by putting
   * the new one first and dropping the old one after a TTL. At least one, each at least 16 characters.
   */
  secrets: string[];
  /** Cookie name (default `nrk.sid`). */
  cookieName?: string;
  /** Session lifetime in ms: cookie `maxAge` and Redis TTL (default 86 400 000 = 24 h). */
  ttlMs?: number;
  /**
   * Sliding expiry (default true): each request re-sends the cookie and extends the TTL in Redis (PEXPIRE only, no
   * rewrite). When false the session ends `ttlMs` after its last write.
   */
  rolling?: boolean;
  /** `Secure` cookie attribute (default true): the cookie is only sent over HTTPS. Turn off for plain-HTTP development. */
  secure?: boolean | 'auto';
  /** `SameSite` cookie attribute (default `lax`). */
  sameSite?: 'lax' | 'strict' | 'none';
  /** Cookie `Domain` (default: none, host-only). */
  domain?: string;
  /** Cookie `Path` (default `/`). */
  path?: string;
  /** Redis client name in RedisModule (default `default`). */
  clientName?: string;
  /** Failed logins per username + IP before 429 (default 5). */
  loginMaxAttempts?: number;
  /** Window of the failed-login counter in ms, counted from the first failure (default 900 000 = 15 min). */
  loginWindowMs?: number;
  /**
   * When Redis cannot decide the failed-login throttle (down, or no answer within {@link loginTimeoutMs}): `false`
   * (default) refuses the login with 503, so that password guessing never goes unthrottled; `true` lets it through
   * unthrottled (counted as `unthrottled`).
   */
  loginFailOpen?: boolean;
  /** Longest wait for Redis per failed-login decision, in ms (default 250); then {@link loginFailOpen} applies. */
  loginTimeoutMs?: number;
  /** Longest accepted username, in characters (default 128); longer → 400. */
  maxUsernameLength?: number;
  /** Longest accepted password, in characters (default 1024); longer → 400 (bounds the hashing cost). */
  maxPasswordLength?: number;
  /**
   * Most sessions one user may hold at once (default: no limit). A login beyond it follows
   * {@link sessionLimitPolicy}; the decision is one Lua script on the user's index, so it holds across instances.
   */
  maxSessionsPerUser?: number;
  /**
   * What a login beyond {@link maxSessionsPerUser} does (default `evict-oldest`): `evict-oldest` ends the user's
   * oldest sessions (their next request is anonymous: 401 on a guarded route); `refuse-new` refuses the login with
   * `SessionLimitError` (409 at the module's HTTP edge).
   */
  sessionLimitPolicy?: SessionLimitPolicy;
  /**
   * Absolute lifetime of a session in ms, counted from its creation (login), whatever its activity (default: none,
   * only the idle expiry of {@link ttlMs}). The Redis TTL is capped at it and every read checks it.
   */
  absoluteTimeoutMs?: number;
  /**
   * Routes the session middleware runs on (default: every route). Strings are paths in Nest's syntax
   * (`auth/{*path}`), or `{ path, method }`; see Nest's `MiddlewareConsumer.forRoutes`.
   */
  forRoutes?: SessionRoute[];
  /**
   * Routes the session middleware never runs on, so that they never read the session store: no Redis command, no
   * 503 while Redis is down, no `Set-Cookie` (e.g. `['health', 'metrics', 'docs', 'docs/{*path}']`). A guard or
   * `@CurrentUser()` on such a route sees no user.
   */
  exclude?: SessionRoute[];
}

/** What a login beyond `maxSessionsPerUser` does: end the user's oldest sessions, or refuse the new one. */
export type SessionLimitPolicy = 'evict-oldest' | 'refuse-new';

/**
 * A route for {@link SessionModuleOptions.forRoutes} / {@link SessionModuleOptions.exclude}: a path in Nest's syntax,
 * or a path and a method (what Nest's `MiddlewareConsumer` takes).
 */
export type SessionRoute = string | { path: string; method: RequestMethod };

/** Options after validation with every default applied. */
export type ResolvedSessionOptions = Required<
  Omit<SessionModuleOptions, 'domain' | 'maxSessionsPerUser' | 'absoluteTimeoutMs'>
> & {
  domain?: string;
  /** Undefined: no limit. */
  maxSessionsPerUser?: number;
  /** Undefined: no absolute lifetime. */
  absoluteTimeoutMs?: number;
};

/** Extra options of `SessionModule.forRoot/forRootAsync` that shape the module itself. */
export interface SessionModuleExtras {
  /** Register globally (default true) so guards and services are injectable everywhere. */
  isGlobal?: boolean;
  /** The application's implementation of {@link SessionUserLookup} (required). */
  userLookup?: Type<SessionUserLookup>;
  /** Modules the user lookup depends on (e.g. the users module). */
  lookupImports?: NonNullable<import('@nestjs/common').ModuleMetadata['imports']>;
}

/** Characters of a cookie name (an RFC 6265 token). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Validates the options and applies defaults; throws `RedisConfigError` naming the bad option (`session.ttlMs`...). */
export function resolveSessionOptions(options: SessionModuleOptions): ResolvedSessionOptions {
  if (!options || !Array.isArray(options.secrets) || options.secrets.length === 0)
    check.fail('session.secrets', 'give at least one secret');
  options.secrets.forEach((s: unknown, i) => {
    if (typeof s !== 'string' || s.length < 16)
      check.fail(`session.secrets[${i}]`, 'must be a string of at least 16 characters');
  });
  const cookieName = check.string('session.cookieName', options.cookieName) ?? 'nrk.sid';
  if (!COOKIE_NAME.test(cookieName)) check.fail('session.cookieName', 'must be a valid cookie name token');
  const sameSite = check.oneOf('session.sameSite', options.sameSite, ['lax', 'strict', 'none'] as const) ?? 'lax';
  const secure = check.oneOf('session.secure', options.secure, [true, false, 'auto'] as const) ?? true;
  if (sameSite === 'none' && secure === false) check.fail('session.sameSite', "'none' requires secure cookies");
  return {
    secrets: [...options.secrets],
    cookieName,
    ttlMs: check.durationMs('session.ttlMs', options.ttlMs, { min: 1 }) ?? 86_400_000,
    rolling: check.boolean('session.rolling', options.rolling) ?? true,
    secure,
    sameSite,
    domain: check.string('session.domain', options.domain),
    path: check.string('session.path', options.path) ?? '/',
    clientName: check.string('session.clientName', options.clientName) ?? 'default',
    loginMaxAttempts: check.positiveInt('session.loginMaxAttempts', options.loginMaxAttempts) ?? 5,
    loginWindowMs: check.durationMs('session.loginWindowMs', options.loginWindowMs, { min: 1 }) ?? 900_000,
    loginFailOpen: check.boolean('session.loginFailOpen', options.loginFailOpen) ?? false,
    loginTimeoutMs: check.durationMs('session.loginTimeoutMs', options.loginTimeoutMs, { min: 1 }) ?? 250,
    maxUsernameLength: check.positiveInt('session.maxUsernameLength', options.maxUsernameLength) ?? 128,
    maxPasswordLength: check.positiveInt('session.maxPasswordLength', options.maxPasswordLength) ?? 1024,
    maxSessionsPerUser: check.positiveInt('session.maxSessionsPerUser', options.maxSessionsPerUser, { max: 1000 }),
    sessionLimitPolicy:
      check.oneOf('session.sessionLimitPolicy', options.sessionLimitPolicy, ['evict-oldest', 'refuse-new'] as const) ??
      'evict-oldest',
    absoluteTimeoutMs: check.durationMs('session.absoluteTimeoutMs', options.absoluteTimeoutMs, { min: 1 }),
    forRoutes: checkRoutes('session.forRoutes', options.forRoutes) ?? [{ path: '{*path}', method: RequestMethod.ALL }],
    exclude: checkRoutes('session.exclude', options.exclude) ?? [],
  };
}

/** Checks a list of routes: paths as non-empty strings, or `{ path, method }` with a `RequestMethod`. */
function checkRoutes(path: string, value: unknown): SessionRoute[] | undefined {
  if (value === undefined) return undefined;
  const routes: unknown[] = Array.isArray(value)
    ? value
    : check.fail(path, 'must be an array of paths or { path, method }');
  return routes.map((route, i): SessionRoute => {
    const at = `${path}[${i}]`;
    if (typeof route === 'string') return check.string(at, route, 512)!;
    const o = check.object(at, route) ?? check.fail(at, 'must be a path or { path, method }');
    const method =
      typeof o.method === 'number' && o.method in RequestMethod
        ? (o.method as RequestMethod)
        : check.fail(`${at}.method`, 'must be a RequestMethod');
    return { path: check.string(`${at}.path`, o.path, 512) ?? check.fail(`${at}.path`, 'is required'), method };
  });
}
