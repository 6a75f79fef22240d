import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * Too many failed logins for one username from one IP address within the window: an HTTP 429 (like
 * @nestjs/throttler's ThrottlerException), so it answers correctly under any exception filter. The login flow also
 * sets the `Retry-After` header (seconds, rounded up from {@link retryAfterMs}) on the response.
 */
export class LoginThrottledError extends HttpException {
  override readonly name = 'LoginThrottledError';
  /** @param retryAfterMs milliseconds until a new attempt is accepted */
  constructor(readonly retryAfterMs: number) {
    super(`Too many failed login attempts; retry in ${Math.ceil(retryAfterMs / 1000)} s`, HttpStatus.TOO_MANY_REQUESTS);
  }

  /** Value of the `Retry-After` header: whole seconds, at least 1. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.retryAfterMs / 1000));
  }
}
