import type { NextFunction, Request, RequestHandler, Response } from 'express';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { LOCAL_STRATEGY_NAME } from './session.constants';
import { InvalidCredentialsError } from './session.errors';
import type { SessionUserLookup } from './session-user.lookup';

/** Checks a username and password from a request's IP address; resolves the user or throws a library error. */
export type CredentialsCheck<TUser> = (username: string, password: string, ip: string) => Promise<TUser>;

/**
 * A passport instance of its own (not the process-wide singleton, so that several Nest applications in one process
 * do not overwrite each other's strategies and serializers) with the local strategy `nrk-local` running `verify`,
 * and a session serializer that stores the user's id and loads the user through `lookup`.
 */
export function createSessionPassport<TUser extends object>(
  lookup: SessionUserLookup<TUser>,
  verify: CredentialsCheck<TUser>,
): passport.Authenticator {
  const authenticator = new passport.Authenticator();
  authenticator.use(
    LOCAL_STRATEGY_NAME,
    new LocalStrategy({ passReqToCallback: true }, (req, username: unknown, password: unknown, done) => {
      // passport-local passes whatever the body held; only strings are credentials
      if (typeof username !== 'string' || typeof password !== 'string') return done(new InvalidCredentialsError());
      verify(username, password, req.ip ?? '').then(
        (user) => done(null, user),
        (err: unknown) => done(err),
      );
    }),
  );
  authenticator.serializeUser((user, done) => done(null, String(lookup.getId(user as TUser))));
  authenticator.deserializeUser((id: string, done) => {
    lookup.findById(String(id)).then(
      (user) => done(null, user ?? false),
      (err: unknown) => done(err),
    );
  });
  return authenticator;
}

/**
 * Runs the local strategy on one request, without touching the session: resolves the verified user, rejects with
 * the strategy's error or {@link InvalidCredentialsError} (also when the body has no username or password).
 */
export function authenticateLocal<TUser>(
  authenticator: passport.Authenticator,
  req: Request,
  res: Response,
): Promise<TUser> {
  return new Promise<TUser>((resolve, reject) => {
    const next: NextFunction = (err?: unknown) => reject(err ?? new InvalidCredentialsError());
    const handler = authenticator.authenticate(
      LOCAL_STRATEGY_NAME,
      { session: false },
      (err: unknown, found: unknown) => {
        if (err) reject(err);
        else if (!found) reject(new InvalidCredentialsError());
        else resolve(found as TUser);
      },
    ) as RequestHandler;
    void handler(req, res, next);
  });
}
