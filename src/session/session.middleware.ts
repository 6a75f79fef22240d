import type { RequestHandler } from 'express';
import session, { type CookieOptions } from 'express-session';
import type passport from 'passport';
import type { ResolvedSessionOptions } from './session.options';
import { toSessionHttpError } from './session-http.errors';

/** The attributes of the session cookie, as set at login and cleared at logout. */
export function sessionCookieOptions(
  o: ResolvedSessionOptions,
): Pick<CookieOptions, 'httpOnly' | 'sameSite' | 'secure' | 'path' | 'domain'> {
  return { httpOnly: true, sameSite: o.sameSite, secure: o.secure, path: o.path, domain: o.domain };
}

/**
 * The request pipeline of the session feature, in this order: express-session (the given store, signed cookie,
 * saved only once something is stored in it), `passport.initialize()` and `passport.session()`. A store error that
 * means Redis is unreachable reaches Nest's exception handling as a 503 (see `toSessionHttpError`), never as "no
 * session": a request is neither logged out nor given a new session while Redis is down.
 */
export function createSessionMiddleware(
  o: ResolvedSessionOptions,
  store: session.Store,
  authenticator: passport.Authenticator,
): RequestHandler[] {
  const sessions = session({
    store,
    secret: o.secrets,
    name: o.cookieName,
    resave: false,
    saveUninitialized: false,
    rolling: o.rolling,
    unset: 'keep',
    cookie: { ...sessionCookieOptions(o), maxAge: o.ttlMs },
  });
  const withHttpErrors: RequestHandler = (req, res, next) =>
    sessions(req, res, (err?: unknown) => (err === undefined ? next() : next(toSessionHttpError(err, res))));
  return [withHttpErrors, authenticator.initialize(), authenticator.session()];
}
