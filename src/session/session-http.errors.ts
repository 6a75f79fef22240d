import {
  BadRequestException,
  ConflictException,
  HttpException,
  HttpStatus,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import type { Response } from 'express';
import { RedisUnavailableError } from '../redis/redis.errors';
import {
  InvalidCredentialsError,
  InvalidLoginBodyError,
  LoginThrottledError,
  SessionLimitError,
} from './session.errors';

/** Message of the 503 the session feature answers while Redis cannot be reached. */
export const SESSION_REDIS_UNAVAILABLE_MESSAGE = 'Redis is unavailable; try again shortly';

/**
 * The HTTP answer of a session error at the library's own HTTP edge (its guards and its middleware), so that an
 * application without an exception filter of its own still answers 400 / 401 / 429 / 503 rather than 500:
 * {@link InvalidLoginBodyError} → 400 (the problems as `message`), {@link InvalidCredentialsError} → 401,
 * {@link LoginThrottledError} → 429 + `Retry-After`, {@link SessionLimitError} → 409, `RedisUnavailableError` → 503 +
 * `Retry-After: 1`.
 * Any other error is returned unchanged. Headers are set on `res` while it can still take them.
 */
export function toSessionHttpError(err: unknown, res?: Response): unknown {
  const header = (name: string, value: string) => {
    if (res && !res.headersSent) res.setHeader(name, value);
  };
  if (err instanceof InvalidLoginBodyError) return new BadRequestException(err.problems);
  if (err instanceof InvalidCredentialsError) return new UnauthorizedException(err.message);
  if (err instanceof LoginThrottledError) {
    header('Retry-After', String(err.retryAfterSeconds));
    return new HttpException(err.message, HttpStatus.TOO_MANY_REQUESTS, { cause: err });
  }
  if (err instanceof SessionLimitError) return new ConflictException(err.message, { cause: err });
  if (err instanceof RedisUnavailableError) {
    header('Retry-After', '1');
    return new ServiceUnavailableException(SESSION_REDIS_UNAVAILABLE_MESSAGE, { cause: err });
  }
  return err;
}
