import type { RateLimitDecision } from './ratelimit.decision';

/** Whole seconds, rounded up (at least `min`). */
const seconds = (ms: number, min = 0): number => Math.max(min, Math.ceil(ms / 1000));

/**
 * The IETF rate-limit header fields (draft-ietf-httpapi-ratelimit-headers) of the limits that decided a request:
 * `RateLimit-Policy: "<name>";q=<quota>;w=<window s>` and `RateLimit: "<name>";r=<remaining>;t=<s until reset>`,
 * one list member per limit. Limits that failed open (Redis could not be asked) are left out; none left, no headers.
 * A token bucket's or GCRA's quota is its burst and its window the time an empty bucket takes to fill up.
 */
export function rateLimitHeaders(decisions: readonly RateLimitDecision[]): Record<string, string> {
  const known = decisions.filter((d) => !d.failedOpen);
  if (known.length === 0) return {};
  return {
    'RateLimit-Policy': known.map((d) => `"${d.policy}";q=${d.limit};w=${seconds(d.windowMs, 1)}`).join(', '),
    RateLimit: known.map((d) => `"${d.policy}";r=${d.remaining};t=${seconds(d.resetMs)}`).join(', '),
  };
}

/** `Retry-After` of a refused request: whole seconds (at least 1) until every refusing limit may allow a retry. */
export function retryAfterHeader(refusals: readonly RateLimitDecision[]): string {
  return String(Math.max(1, ...refusals.map((d) => seconds(d.retryAfterMs, 1))));
}
