import type { DecisionReply } from '../core/rate-decision';
import type { ResolvedRateLimitPolicy } from './ratelimit.options';

/** The answer of one rate-limit decision. Times in milliseconds. */
export interface RateLimitDecision {
  /** True when the call may go ahead (it was counted); false when it was refused (and cost nothing). */
  allowed: boolean;
  /** Name of the limit. */
  policy: string;
  /** The quota: calls per window, or the burst of a bucket. */
  limit: number;
  /** The window in ms (for a bucket: the time an empty bucket takes to fill up). */
  windowMs: number;
  /** Calls still allowed right now (after this one, when it was allowed). */
  remaining: number;
  /** Milliseconds until the whole quota is available again. */
  resetMs: number;
  /** Milliseconds until a retry of the same cost can be allowed (0 when allowed). */
  retryAfterMs: number;
  /** True when Redis could not be asked and the limit failed open: the call was let through uncounted. */
  failedOpen: boolean;
}

/**
 * A script reply as a {@link RateLimitDecision}.
 * @param remaining what the reply leaves (`RateDecider.remainingOf`: the fixed window answers its count)
 */
export function toDecision(
  policy: ResolvedRateLimitPolicy,
  reply: DecisionReply,
  remaining: number,
): RateLimitDecision {
  const [allowed, , resetMs, retryAfterMs] = reply;
  return {
    allowed: Number(allowed) === 1,
    policy: policy.name,
    limit: policy.limit,
    windowMs: policy.windowMs,
    remaining,
    resetMs: Math.max(0, Number(resetMs)),
    retryAfterMs: Math.max(0, Number(retryAfterMs)),
    failedOpen: false,
  };
}

/** The decision of a limit that failed open: let through, uncounted, the whole quota shown. */
export function failedOpenDecision(policy: ResolvedRateLimitPolicy): RateLimitDecision {
  return {
    allowed: true,
    policy: policy.name,
    limit: policy.limit,
    windowMs: policy.windowMs,
    remaining: policy.limit,
    resetMs: 0,
    retryAfterMs: 0,
    failedOpen: true,
  };
}
