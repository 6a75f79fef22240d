/** The one message for an unknown user and a wrong password (no user enumeration). */
export const INVALID_CREDENTIALS_MESSAGE = 'Invalid username or password';

/**
 * A login body that is not `{ username, password }` as strings within the configured lengths. The library's guard
 * answers it with a 400 listing {@link problems}.
 */
export class InvalidLoginBodyError extends Error {
  override readonly name = 'InvalidLoginBodyError';
  /** @param problems one sentence per problem, e.g. `username must be a string` */
  constructor(readonly problems: string[]) {
    super(`Invalid login body: ${problems.join('; ')}`);
  }
}

/**
 * Wrong username or password (one error and one message for both, so that nobody can tell which usernames exist).
 * The library's guard answers it with a 401.
 */
export class InvalidCredentialsError extends Error {
  override readonly name = 'InvalidCredentialsError';
  constructor() {
    super(INVALID_CREDENTIALS_MESSAGE);
  }
}

/**
 * Too many failed logins for one username from one IP address within the window. The library's guard answers it
 * with a 429 and a `Retry-After` header of {@link retryAfterSeconds}.
 */
export class LoginThrottledError extends Error {
  override readonly name = 'LoginThrottledError';
  /** @param retryAfterMs milliseconds until a new attempt is accepted */
  constructor(readonly retryAfterMs: number) {
    super(`Too many failed login attempts; retry in ${Math.ceil(retryAfterMs / 1000)} s`);
  }

  /** Value of the `Retry-After` header: whole seconds, at least 1. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.retryAfterMs / 1000));
  }
}

/**
 * A login refused because the user already holds `maxSessionsPerUser` sessions and the policy is `refuse-new`. The
 * library's guard answers it with a 409 and {@link message}; no session is created.
 */
export class SessionLimitError extends Error {
  override readonly name = 'SessionLimitError';
  /** @param maxSessions the configured `maxSessionsPerUser` */
  constructor(readonly maxSessions: number) {
    super(
      `Too many active sessions: this account is limited to ${maxSessions} at once; ` +
        'log out of another session (or revoke it) and try again',
    );
  }
}
