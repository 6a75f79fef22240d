import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { RedisUnavailableError, ReplicationTimeoutError, isRedisConnectionError } from '../../index';
import { LockLostError, LockNotAcquiredError, LockOptionsError } from '../../index';
import { InvalidCredentialsError, InvalidLoginBodyError, LoginThrottledError, SessionLimitError } from '../../index';
import { RateLimitArgumentError, RateLimitExceededError } from '../../index';

/** One mapping from a library error to an HTTP answer. Features add theirs to {@link ERROR_MAPPINGS}. */
export interface ErrorMapping {
  /** True when this mapping handles the error. */
  matches(err: unknown): boolean;
  /** HTTP status to answer. */
  status: number;
  /** Response headers to add (e.g. Retry-After), computed from the error. */
  headers?(err: unknown): Record<string, string>;
  /** Client-facing message (never a stack trace): one sentence, or one per problem of a request body. */
  message(err: unknown): string | string[];
}

/** Typed library errors and what the reference service answers for them. */
export const ERROR_MAPPINGS: ErrorMapping[] = [
  {
    matches: (err) => err instanceof LockNotAcquiredError,
    status: HttpStatus.LOCKED,
    headers: (err) => ({
      'Retry-After': String(Math.max(1, Math.ceil((err as LockNotAcquiredError).retryAfterMs / 1000))),
    }),
    message: () => 'The resource is locked by another request; retry later',
  },
  {
    matches: (err) => err instanceof LockLostError,
    status: HttpStatus.SERVICE_UNAVAILABLE,
    headers: () => ({ 'Retry-After': '1' }),
    message: () => 'The lock on the resource was lost before the operation finished; it was aborted, retry',
  },
  {
    matches: (err) => err instanceof LockOptionsError,
    status: HttpStatus.BAD_REQUEST,
    message: (err) => (err as LockOptionsError).message,
  },
  {
    matches: (err) => err instanceof InvalidLoginBodyError,
    status: HttpStatus.BAD_REQUEST,
    message: (err) => (err as InvalidLoginBodyError).problems,
  },
  {
    matches: (err) => err instanceof InvalidCredentialsError,
    status: HttpStatus.UNAUTHORIZED,
    message: (err) => (err as InvalidCredentialsError).message,
  },
  {
    matches: (err) => err instanceof LoginThrottledError,
    status: HttpStatus.TOO_MANY_REQUESTS,
    headers: (err) => ({ 'Retry-After': String((err as LoginThrottledError).retryAfterSeconds) }),
    message: (err) => (err as LoginThrottledError).message,
  },
  {
    matches: (err) => err instanceof SessionLimitError,
    status: HttpStatus.CONFLICT,
    message: (err) => (err as SessionLimitError).message,
  },
  {
    matches: (err) => err instanceof RateLimitExceededError,
    status: HttpStatus.TOO_MANY_REQUESTS,
    headers: (err) => ({ 'Retry-After': String((err as RateLimitExceededError).retryAfterSeconds) }),
    message: (err) => (err as RateLimitExceededError).message,
  },
  {
    matches: (err) => err instanceof RateLimitArgumentError,
    status: HttpStatus.BAD_REQUEST,
    message: (err) => (err as RateLimitArgumentError).message,
  },
  {
    matches: (err) => err instanceof ReplicationTimeoutError,
    status: HttpStatus.SERVICE_UNAVAILABLE,
    headers: () => ({ 'Retry-After': '1' }),
    message: () => 'Redis could not replicate the write in time; try again shortly',
  },
  {
    matches: (err) => err instanceof RedisUnavailableError || isRedisConnectionError(err),
    status: HttpStatus.SERVICE_UNAVAILABLE,
    headers: () => ({ 'Retry-After': '1' }),
    message: () => 'Redis is unavailable; try again shortly',
  },
];

/**
 * The one place where errors become HTTP answers: HttpExceptions pass through, typed library errors are
 * mapped by {@link ERROR_MAPPINGS}, anything else is a 500 without internals (logged with its stack).
 * Errors of message handlers (they run through the global filters too) are left as they are: rethrown, so that
 * the messaging module retries, dead-letters or logs them.
 */
@Catch()
export class AppExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(err: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw err;
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) {
      res.end();
      return;
    }
    if (err instanceof HttpException) {
      const body = err.getResponse();
      res
        .status(err.getStatus())
        .json(typeof body === 'string' ? { statusCode: err.getStatus(), message: body } : body);
      return;
    }
    const mapping = ERROR_MAPPINGS.find((m) => m.matches(err));
    if (mapping) {
      for (const [k, v] of Object.entries(mapping.headers?.(err) ?? {})) res.setHeader(k, v);
      res.status(mapping.status).json({ statusCode: mapping.status, message: mapping.message(err) });
      return;
    }
    this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    res.status(HttpStatus.INTERNAL_SERVER_ERROR).json({ statusCode: 500, message: 'Internal server error' });
  }
}
