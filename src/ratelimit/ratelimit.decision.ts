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

/** What every decision script answers: {1 allowed / 0 refused, remaining or count, reset ms, retry-after ms}. */
export type DecisionReply = [number, number, number, number];

/**
 * A script reply as a {@link RateLimitDecision}. The fixed-window script answers the count in the window (it is
 * shared with the @nestjs/throttler storage, which wants the count); the others answer what remains.
 */
export function toDecision(policy: ResolvedRateLimitPolicy, reply: DecisionReply): RateLimitDecision {
  const [allowed, second, resetMs, retryAfterMs] = reply;
  const remaining = policy.algorithm === 'fixed-window' ? Math.max(0, policy.limit - Number(second)) : Number(second);
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
