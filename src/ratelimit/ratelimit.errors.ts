import { HttpException, HttpStatus } from '@nestjs/common';
import type { RateLimitDecision } from './ratelimit.decision';

/**
 * A call was refused by a rate limit (`RateLimiter.enforce`, `RateLimitService.enforce`). The `@RateLimit` guard
 * answers 429 itself; an application filter maps this error to 429 + `Retry-After` for programmatic callers.
 */
export class RateLimitExceededError extends Error {
  override readonly name = 'RateLimitExceededError';
  /** Milliseconds until a retry can be allowed (at least 1). */
  readonly retryAfterMs: number;

  /** @param decision the refusal, as `consume` returned it */
  constructor(readonly decision: RateLimitDecision) {
    super(
      `Rate limit "${decision.policy}" exceeded (${decision.limit} per ${describeWindow(decision.windowMs)}); ` +
        `retry in ${Math.max(1, Math.ceil(decision.retryAfterMs / 1000))} s`,
    );
    this.retryAfterMs = Math.max(1, decision.retryAfterMs);
  }

  /** Whole seconds until a retry can be allowed, at least 1: the value of a `Retry-After` header. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.retryAfterMs / 1000));
  }
}

/** A rate-limit call got an argument it cannot work with (a cost above the limit, an empty key...). */
export class RateLimitArgumentError extends Error {
  override readonly name = 'RateLimitArgumentError';
  /**
   * @param argument name of the offending argument, e.g. `cost`
   * @param problem what is wrong with it
   */
  constructor(
    readonly argument: string,
    problem: string,
  ) {
    super(`Invalid rate-limit argument "${argument}": ${problem}`);
  }
}

function describeWindow(windowMs: number): string {
  return windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`;
}

/**
 * The HTTP answer of a route whose `@RateLimit` refused the request: 429 with a JSON body
 * `{ statusCode: 429, error: 'Too Many Requests', message, policy, retryAfterSeconds }`; the guard has set
 * `Retry-After` and the `RateLimit` headers.
 */
export class RateLimitExceededException extends HttpException {
  /** @param decisions the refusals (the limits that refused the request) */
  constructor(readonly decisions: readonly RateLimitDecision[]) {
    const first = decisions[0];
    const retryAfterSeconds = Math.max(1, ...decisions.map((d) => Math.ceil(d.retryAfterMs / 1000)));
    super(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        message:
          `Too many requests: the limit "${first.policy}" allows ${first.limit} per ${describeWindow(first.windowMs)}; ` +
          `retry in ${retryAfterSeconds} s`,
        policy: first.policy,
        retryAfterSeconds,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/**
 * The HTTP answer of a route whose `@RateLimit` fails closed while Redis cannot decide: 503 with a JSON body and
 * `Retry-After: 1`.
 */
export class RateLimitUnavailableException extends HttpException {
  /** @param policy the limit that could not be decided */
  constructor(policy: string, options?: { cause?: unknown }) {
    super(
      {
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: 'Service Unavailable',
        message: `The rate limit "${policy}" cannot be checked right now (Redis is unavailable); try again shortly`,
        policy,
      },
      HttpStatus.SERVICE_UNAVAILABLE,
      options,
    );
  }
}
