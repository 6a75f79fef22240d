import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RedisUnavailableError } from '../redis/redis.errors';
import { RATE_LIMIT_METADATA } from './ratelimit.constants';
import type { RateLimitDecision } from './ratelimit.decision';
import { RateLimitExceededException, RateLimitUnavailableException } from './ratelimit.errors';
import { rateLimitHeaders, retryAfterHeader } from './ratelimit.headers';
import type { RateLimitMetadata } from './rate-limit.decorator';
import type { RateLimiter } from './rate-limiter';
import { RateLimitService } from './rate-limit.service';

/** Marks a request the guard has decided (a class and a method `@RateLimit` both apply the guard). */
const DECIDED = Symbol('nest-redis-kit:ratelimit:decided');

/** What the guard reads of a request (Express or Fastify). */
interface LimitedRequest {
  ip?: string;
  socket?: { remoteAddress?: string };
  user?: { id?: unknown } | null;
  [DECIDED]?: boolean;
}

/** What the guard writes on a response (Express `setHeader`, Fastify `header`). */
interface LimitedResponse {
  setHeader?(name: string, value: string): unknown;
  header?(name: string, value: string): unknown;
}

/**
 * The guard of `@RateLimit` (the decorator applies it): decides every limit of the route for the request, sets the
 * `RateLimit-Policy` / `RateLimit` headers, and refuses with {@link RateLimitExceededException} (429 +
 * `Retry-After`), or {@link RateLimitUnavailableException} (503) when Redis cannot decide a limit that fails closed.
 * HTTP only: other contexts pass.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly limiters = new WeakMap<RateLimitMetadata, RateLimiter>();

  constructor(
    private readonly reflector: Reflector,
    private readonly limits: RateLimitService,
  ) {}

  /** Decides the route's limits; throws the 429 or 503 exception, true otherwise. */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http' || !this.limits.options.guard) return true;
    const limits = this.reflector.getAllAndOverride<RateLimitMetadata[] | undefined>(RATE_LIMIT_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!limits || limits.length === 0) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<LimitedRequest>();
    if (request[DECIDED]) return true;
    request[DECIDED] = true;
    const decisions = (await Promise.all(limits.map((limit) => this.decide(limit, request, context)))).filter(
      (d): d is RateLimitDecision => d !== undefined,
    );
    const response = http.getResponse<LimitedResponse>();
    const headers = this.limits.options.headers ? rateLimitHeaders(decisions) : {};
    const refusals = decisions.filter((d) => !d.allowed);
    if (refusals.length > 0) headers['Retry-After'] = retryAfterHeader(refusals);
    for (const [name, value] of Object.entries(headers)) {
      if (response.setHeader) response.setHeader(name, value);
      else response.header?.(name, value);
    }
    if (refusals.length > 0) throw new RateLimitExceededException(refusals);
    return true;
  }

  private async decide(
    limit: RateLimitMetadata,
    request: LimitedRequest,
    context: ExecutionContext,
  ): Promise<RateLimitDecision | undefined> {
    const key = await clientKey(limit, request, context);
    if (key === undefined) return undefined;
    const limiter = this.limiterOf(limit);
    try {
      return await limiter.consume(key, limit.cost);
    } catch (err) {
      if (err instanceof RedisUnavailableError) {
        throw new RateLimitUnavailableException(limiter.policy.name, { cause: err });
      }
      throw err;
    }
  }

  private limiterOf(limit: RateLimitMetadata): RateLimiter {
    let limiter = this.limiters.get(limit);
    if (!limiter) {
      limiter =
        typeof limit.policy === 'string' ? this.limits.limiter(limit.policy) : this.limits.limiterFor(limit.policy);
      this.limiters.set(limit, limiter);
    }
    return limiter;
  }
}

/** The client key of a request for one limit: `ip:<address>`, `user:<id>`, `route`, or `fn:<what the function said>`. */
async function clientKey(
  limit: RateLimitMetadata,
  request: LimitedRequest,
  context: ExecutionContext,
): Promise<string | undefined> {
  const ip = () => `ip:${request.ip ?? request.socket?.remoteAddress ?? 'unknown'}`;
  switch (limit.key) {
    case 'ip':
      return ip();
    case 'route':
      return 'route';
    case 'user': {
      const id = request.user?.id;
      return id === undefined || id === null || id === '' ? ip() : `user:${String(id)}`;
    }
    default: {
      const key = await limit.key(context);
      return key === undefined || key === '' ? undefined : `fn:${key}`;
    }
  }
}
