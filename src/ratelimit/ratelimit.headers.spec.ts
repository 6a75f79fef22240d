import type { RateLimitDecision } from './ratelimit.decision';
import { rateLimitHeaders, retryAfterHeader } from './ratelimit.headers';

const decision = (fields: Partial<RateLimitDecision>): RateLimitDecision => ({
  allowed: true,
  policy: 'search',
  limit: 30,
  windowMs: 60_000,
  remaining: 12,
  resetMs: 40_200,
  retryAfterMs: 0,
  failedOpen: false,
  ...fields,
});

describe('rate-limit headers', () => {
  it('one list member per limit: RateLimit-Policy q/w and RateLimit r/t, in whole seconds', () => {
    expect(rateLimitHeaders([decision({}), decision({ policy: 'daily', limit: 5000, windowMs: 86_400_000 })])).toEqual({
      'RateLimit-Policy': '"search";q=30;w=60, "daily";q=5000;w=86400',
      RateLimit: '"search";r=12;t=41, "daily";r=12;t=41',
    });
  });

  it('a window under a second is shown as 1 s; a limit that failed open is left out', () => {
    expect(rateLimitHeaders([decision({ windowMs: 200, resetMs: 0 })])).toEqual({
      'RateLimit-Policy': '"search";q=30;w=1',
      RateLimit: '"search";r=12;t=0',
    });
    expect(rateLimitHeaders([decision({ failedOpen: true })])).toEqual({});
  });

  it('Retry-After: the longest wait of the refusals, at least 1 s', () => {
    expect(retryAfterHeader([decision({ retryAfterMs: 10 }), decision({ retryAfterMs: 2_100 })])).toBe('3');
    expect(retryAfterHeader([decision({ retryAfterMs: 0 })])).toBe('1');
  });
});
