import { SetMetadata, UseGuards, type ExecutionContext } from '@nestjs/common';
import { check } from '../core/option-checker';
import { RATE_LIMIT_METADATA } from './ratelimit.constants';
import { resolveRateLimitPolicy, type RateLimitPolicy, type ResolvedRateLimitPolicy } from './ratelimit.options';
import { RateLimitGuard } from './rate-limit.guard';

/**
 * Whose limit a request counts against:
 * - `ip`: the client address (`request.ip`, which honours Express's `trust proxy`);
 * - `user`: the signed-in user (`request.user.id`, as Passport sets it), or the IP when nobody is signed in;
 * - `route`: one limit shared by every client of the route;
 * - a function of the execution context returning the key, or `undefined` to leave the request unlimited.
 */
export type RateLimitKey = 'ip' | 'user' | 'route' | RateLimitKeyFunction;

/** A key computed from the request (`context.switchToHttp().getRequest()`); `undefined`: not limited. */
export type RateLimitKeyFunction = (context: ExecutionContext) => string | undefined | Promise<string | undefined>;

/** One limit of `@RateLimit`: a policy (or the name of a module policy), whose key, and the cost of one request. */
export interface RateLimitOptions extends RateLimitPolicy {
  /** Name of a policy of `RateLimitModule.forRoot({ policies })`, instead of `algorithm`, `limit`... here. */
  policy?: string;
  /** Whose limit (default `ip`). */
  key?: RateLimitKey;
  /** Units one request uses (default 1). */
  cost?: number;
}

/** What `@RateLimit` stores, per limit (resolved when the class is loaded). */
export interface RateLimitMetadata {
  /** Where it was written, for errors: `@RateLimit(SearchController.search)`. */
  readonly path: string;
  /** The resolved policy, or the name of a module policy. */
  readonly policy: ResolvedRateLimitPolicy | string;
  /** Whose limit. */
  readonly key: RateLimitKey;
  /** Units one request uses. */
  readonly cost: number;
}

const KEY_KINDS: readonly string[] = ['ip', 'user', 'route'];

/**
 * Rate-limits a route (on a method) or every route of a controller (on the class), with the IETF `RateLimit-Policy`
 * / `RateLimit` headers on every answer and 429 + `Retry-After` + a JSON message once refused. Several limits may be
 * given (e.g. a burst and a daily quota): every one is counted, and any refusal refuses the request. Options are
 * checked when the class is loaded (`RedisConfigError` naming `@RateLimit(Search.find).limit`); the limit's name
 * defaults to `<Controller>.<method>`. Needs `RateLimitModule`; the decorator applies its guard itself.
 *
 * ```ts
 * @RateLimit({ algorithm: 'sliding-window', limit: 30, windowMs: 60_000, key: 'user' })
 * @Get('search') search() { ... }
 * ```
 */
export function RateLimit(...limits: Array<RateLimitOptions | string>): MethodDecorator & ClassDecorator {
  return (target: object, propertyKey?: string | symbol, descriptor?: PropertyDescriptor): void => {
    const className = typeof target === 'function' ? target.name : target.constructor.name;
    const where = propertyKey === undefined ? className : `${className}.${String(propertyKey)}`;
    if (limits.length === 0) check.fail(`@RateLimit(${where})`, 'needs at least one limit');
    const metadata = limits.map((limit, i) =>
      resolveMetadata(limits.length > 1 ? `@RateLimit(${where})[${i}]` : `@RateLimit(${where})`, limit, where),
    );
    if (propertyKey === undefined) {
      SetMetadata(RATE_LIMIT_METADATA, metadata)(target as () => unknown);
      UseGuards(RateLimitGuard)(target as () => unknown);
    } else {
      SetMetadata(RATE_LIMIT_METADATA, metadata)(target, propertyKey, descriptor as PropertyDescriptor);
      UseGuards(RateLimitGuard)(target, propertyKey, descriptor as PropertyDescriptor);
    }
  };
}

function resolveMetadata(path: string, limit: RateLimitOptions | string, where: string): RateLimitMetadata {
  const given = typeof limit === 'string' ? { policy: limit } : (check.object(path, limit) ?? {});
  const { policy: named, key = 'ip', cost = 1, ...policy } = given as RateLimitOptions;
  if (typeof key !== 'function' && !KEY_KINDS.includes(key)) {
    check.fail(`${path}.key`, `must be 'ip', 'user', 'route' or a function, got ${JSON.stringify(key)}`);
  }
  check.positiveInt(`${path}.cost`, cost);
  if (named !== undefined) {
    check.string(`${path}.policy`, named);
    const extra = Object.keys(policy).filter((k) => policy[k as keyof RateLimitPolicy] !== undefined);
    if (extra.length > 0) check.fail(`${path}.${extra[0]}`, `comes from the module policy "${named}": leave it out`);
    return { path, policy: named, key, cost };
  }
  const resolved = resolveRateLimitPolicy(path, policy, where);
  if (cost > resolved.limit) check.fail(`${path}.cost`, `must be at most the quota (${resolved.limit}), got ${cost}`);
  return { path, policy: resolved, key, cost };
}
