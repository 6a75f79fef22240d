import { Inject, Injectable } from '@nestjs/common';
import { DecisionRunner } from '../core/rate-decision.runner';
import { RedisService } from '../redis/redis.service';
import { RATE_LIMIT_MODULE_OPTIONS } from './ratelimit.constants';
import type { RateLimitDecision } from './ratelimit.decision';
import { RateLimitArgumentError } from './ratelimit.errors';
import { RateLimitKeys } from './ratelimit.keys';
import {
  resolveRateLimitOptions,
  resolveRateLimitPolicy,
  type RateLimitModuleOptions,
  type RateLimitPolicy,
  type ResolvedRateLimitOptions,
  type ResolvedRateLimitPolicy,
} from './ratelimit.options';
import { RateLimiter, type RateLimiterContext } from './rate-limiter';

/** Counters of a {@link RateLimitService} since start. */
export interface RateLimitStats {
  /** Calls allowed (counted against their limit). */
  allowed: number;
  /** Calls refused by their limit. */
  refused: number;
  /** Calls let through uncounted because Redis could not decide (limits that fail open). */
  failedOpen: number;
  /** Calls refused because Redis could not decide (limits that fail closed). */
  failedClosed: number;
  /** Decisions Redis could not take: an error, no answer within `timeoutMs`, or not connected. */
  errors: number;
  /** Transitions from "Redis works" to "Redis fails" (each outage counted once). */
  outages: number;
}

/** A limit as `RateLimitService` takes it: the name of a module policy, a policy, or a limiter. */
export type RateLimitPolicyRef = string | RateLimitPolicy | RateLimiter;

/**
 * Rate limits on the shared Redis: `consume(policy, key, cost)` from a service, `@RateLimit` on routes (its guard
 * calls this service). Four algorithms (fixed window, sliding window, token bucket, GCRA), each decision one Lua call
 * on the Redis clock, bounded by `timeoutMs`; when Redis cannot decide, each limit fails open (default) or closed.
 *
 * ```ts
 * RateLimitModule.forRoot({ policies: { login: { algorithm: 'fixed-window', limit: 5, windowMs: 60_000, failOpen: false } } })
 * const decision = await rateLimits.consume('login', `${username}:${ip}`);
 * if (!decision.allowed) throw new TooManyRequests(decision.retryAfterMs);
 * ```
 */
@Injectable()
export class RateLimitService {
  /** The resolved module options. */
  readonly options: ResolvedRateLimitOptions;
  private readonly context: RateLimiterContext;
  private readonly counts = { allowed: 0, refused: 0, failedOpen: 0, failedClosed: 0 };
  private readonly named = new Map<string, RateLimiter>();
  private readonly inline = new WeakMap<RateLimitPolicy, RateLimiter>();

  /** @throws RedisConfigError naming the option (`ratelimit.policies.login.limit`) when an option is unusable */
  constructor(redis: RedisService, @Inject(RATE_LIMIT_MODULE_OPTIONS) options: RateLimitModuleOptions = {}) {
    this.options = resolveRateLimitOptions(options);
    const clientName = this.options.clientName;
    const client = () => redis.getClient(clientName);
    this.context = {
      keys: new RateLimitKeys(redis.prefixFor('ratelimit')),
      runner: new DecisionRunner(client, {
        timeoutMs: this.options.timeoutMs,
        subject: 'the rate limits',
        fallback: 'each limit applies its fail mode (open: calls let through; closed: refused)',
        loggerName: 'RateLimitService',
      }),
      outcomes: { count: (outcome) => this.counts[outcome]++ },
    };
    for (const [name, policy] of this.options.policies) this.named.set(name, this.limiterFor(policy));
  }

  /** Counters since start (a fresh copy). */
  get stats(): RateLimitStats {
    const { errors, outages } = this.context.runner.breaker.stats;
    return { ...this.counts, errors, outages };
  }

  /**
   * The limiter of a policy: a module policy by name, or a policy object (resolved once per object).
   * @throws RateLimitArgumentError for an unknown policy name
   * @throws RedisConfigError naming the option of a policy object that is unusable
   */
  limiter(policy: RateLimitPolicyRef): RateLimiter {
    if (policy instanceof RateLimiter) return policy;
    if (typeof policy === 'string') {
      const limiter = this.named.get(policy);
      if (!limiter) {
        const known = [...this.named.keys()].map((n) => `"${n}"`).join(', ') || 'none';
        throw new RateLimitArgumentError(
          'policy',
          `no policy "${policy}" in RateLimitModule options (known: ${known})`,
        );
      }
      return limiter;
    }
    let limiter = this.inline.get(policy);
    if (!limiter) {
      limiter = this.limiterFor(resolveRateLimitPolicy('ratelimit.limiter', policy));
      this.inline.set(policy, limiter);
    }
    return limiter;
  }

  /**
   * A limiter for a policy resolved elsewhere (the `@RateLimit` decorator resolves its own at load time).
   * @param failOpen the fail mode when the policy gives none (default: the module's)
   */
  limiterFor(policy: ResolvedRateLimitPolicy, failOpen?: boolean): RateLimiter {
    return new RateLimiter(policy, policy.failOpen ?? failOpen ?? this.options.failOpen, this.context);
  }

  /**
   * Takes `cost` from `policy`'s limit of `key`, or refuses (see {@link RateLimiter.consume}).
   * @throws RedisUnavailableError when Redis cannot decide and the limit fails closed
   */
  consume(policy: RateLimitPolicyRef, key: string, cost = 1): Promise<RateLimitDecision> {
    return this.limiter(policy).consume(key, cost);
  }

  /**
   * {@link consume}, throwing `RateLimitExceededError` when the call is refused (see {@link RateLimiter.enforce}).
   */
  enforce(policy: RateLimitPolicyRef, key: string, cost = 1): Promise<RateLimitDecision> {
    return this.limiter(policy).enforce(key, cost);
  }

  /** Forgets what `key` has used of `policy`'s limit (see {@link RateLimiter.reset}). */
  reset(policy: RateLimitPolicyRef, key: string): Promise<void> {
    return this.limiter(policy).reset(key);
  }
}
