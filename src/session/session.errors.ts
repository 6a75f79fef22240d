/**
 * Too many failed logins for one username from one IP address within the window. The reference service
 * maps it to 429 with a `Retry-After` header (seconds, rounded up from {@link retryAfterMs}).
 */
export class LoginThrottledError extends Error {
  override readonly name = 'LoginThrottledError';
  /** @param retryAfterMs milliseconds until a new attempt is accepted */
  constructor(readonly retryAfterMs: number) {
    super(`Too many failed login attempts; retry in ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}
