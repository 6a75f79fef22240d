import { OptionChecker } from '../core/option-checker';
import { RateDecider, type DecisionReply } from '../core/rate-decision';
import type { DecisionRunner } from '../core/rate-decision.runner';
import { RedisUnavailableError } from '../redis/redis.errors';
import { failedOpenDecision, toDecision, type RateLimitDecision } from './ratelimit.decision';
import { RateLimitArgumentError, RateLimitExceededError } from './ratelimit.errors';
import type { RateLimitKeys } from './ratelimit.keys';
import type { ResolvedRateLimitPolicy } from './ratelimit.options';

/** The checker of call arguments: failures are {@link RateLimitArgumentError}s. */
const callArguments = new OptionChecker((path, problem) => new RateLimitArgumentError(path, problem));

/** What a limiter reports to the service that made it, for its counters. */
export interface RateLimitOutcomes {
  /** Counts one decision: `allowed`, `refused`, `failedOpen` or `failedClosed`. */
  count(outcome: 'allowed' | 'refused' | 'failedOpen' | 'failedClosed'): void;
}

/** What a limiter shares with its service: the runner and the keys. */
export interface RateLimiterContext {
  /** Runs the scripts (deadline, breaker) on the client the limits live on. */
  runner: DecisionRunner;
  /** The key layout. */
  keys: RateLimitKeys;
  /** Where outcomes are counted. */
  outcomes: RateLimitOutcomes;
}

/**
 * One limit, ready to decide: `RateLimitService.limiter(policy)` makes it. Each decision is one Lua call on the
 * Redis clock (the shared rate decisions of `src/core`, {@link RateDecider}); every instance of a service sharing the
 * Redis shares the counts.
 *
 * ```ts
 * const login = rateLimits.limiter({ name: 'login', algorithm: 'fixed-window', limit: 5, windowMs: 60_000, failOpen: false });
 * await login.enforce(`${username}:${ip}`);   // throws RateLimitExceededError once 5 calls were made in the window
 * ```
 */
export class RateLimiter {
  private readonly decider: RateDecider;

  /**
   * @param policy the resolved limit
   * @param failOpen its fail mode (the policy's, else the module's)
   */
  constructor(
    readonly policy: ResolvedRateLimitPolicy,
    readonly failOpen: boolean,
    private readonly context: RateLimiterContext,
  ) {
    this.decider = new RateDecider(policy, context.runner);
  }

  /**
   * Takes `cost` from the limit of `key`, or refuses (a refused call costs nothing). Never throws for a refusal.
   * @param key the client of the limit (a user id, an IP, `username:ip`...): any non-empty string
   * @param cost units this call uses, 1 to the limit's quota (default 1)
   * @throws RedisUnavailableError when Redis cannot decide within the module's `timeoutMs` and the limit fails closed
   * @throws RateLimitArgumentError for an empty key or a cost out of range
   */
  consume(key: string, cost = 1): Promise<RateLimitDecision> {
    try {
      this.checkCall(key, cost);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.decider.decide(this.context.keys.state(this.policy.name, key), cost).then(this.decided);
  }

  private readonly decided = (reply: DecisionReply | RedisUnavailableError): RateLimitDecision => {
    if (reply instanceof RedisUnavailableError) {
      if (!this.failOpen) {
        this.context.outcomes.count('failedClosed');
        throw reply;
      }
      this.context.outcomes.count('failedOpen');
      return failedOpenDecision(this.policy);
    }
    const decision = toDecision(this.policy, reply, this.decider.remainingOf(reply));
    this.context.outcomes.count(decision.allowed ? 'allowed' : 'refused');
    return decision;
  };

  /**
   * {@link consume}, throwing when the call is refused.
   * @throws RateLimitExceededError when the limit refuses the call (its `retryAfterMs` says when to retry)
   * @throws RedisUnavailableError when Redis cannot decide and the limit fails closed
   */
  async enforce(key: string, cost = 1): Promise<RateLimitDecision> {
    const decision = await this.consume(key, cost);
    if (!decision.allowed) throw new RateLimitExceededError(decision);
    return decision;
  }

  /**
   * Forgets what `key` has used (e.g. the failed attempts once a login succeeds).
   * @throws RedisUnavailableError when Redis cannot be reached
   */
  async reset(key: string): Promise<void> {
    this.checkCall(key, 1);
    await this.decider.reset(this.context.keys.state(this.policy.name, key), `the rate limit "${this.policy.name}"`);
  }

  private checkCall(key: string, cost: number): void {
    if (typeof key !== 'string' || key.length === 0 || key.length > 1024) {
      callArguments.fail('key', `must be a non-empty string of at most 1024 characters, got ${typeof key}`);
    }
    if (cost !== 1) callArguments.positiveInt('cost', cost, { max: this.policy.limit });
  }
}
