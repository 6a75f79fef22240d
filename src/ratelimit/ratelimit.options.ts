import { check } from '../core/option-checker';
import { RATE_DECISION_ALGORITHMS, type RateDecisionAlgorithm } from '../core/rate-decision';
import { DEFAULT_REDIS_CLIENT } from '../redis/redis.constants';

/** The algorithms a limit can use: the shared rate decisions' (see {@link RateDecisionAlgorithm} and docs/ratelimit.md). */
export type RateLimitAlgorithm = RateDecisionAlgorithm;

/** Every {@link RateLimitAlgorithm}. */
export const RATE_LIMIT_ALGORITHMS: readonly RateLimitAlgorithm[] = RATE_DECISION_ALGORITHMS;

/**
 * One limit: which algorithm and how much. Window algorithms take `limit` + `windowMs`; bucket algorithms take
 * `ratePerSec` (+ `burst`, default the rate rounded up), or `limit` + `windowMs` (rate = limit / window, burst =
 * limit).
 */
export interface RateLimitPolicy {
  /**
   * Name of the limit: part of its Redis keys and of the `RateLimit-Policy` header. Letters, digits and `.:_-`
   * (default: `@RateLimit` uses `<Controller>.<method>`; a named policy of the module its name).
   */
  name?: string;
  /** Algorithm (default `sliding-window`). */
  algorithm?: RateLimitAlgorithm;
  /** Calls allowed per window (window algorithms), or with `windowMs` the rate and burst of a bucket. */
  limit?: number;
  /** Window length in milliseconds. */
  windowMs?: number;
  /** Refill rate of `token-bucket` / `gcra`, in calls per second (fractions allowed, e.g. 0.5). */
  ratePerSec?: number;
  /** Calls a `token-bucket` / `gcra` allows at once (default: `limit`, else `ratePerSec` rounded up). */
  burst?: number;
  /**
   * When Redis cannot decide within the module's `timeoutMs`: `true` lets the call through (fail open), `false`
   * refuses it with a `RedisUnavailableError` (HTTP 503). Default: the module's `failOpen` (itself default true).
   */
  failOpen?: boolean;
}

/** A policy after validation: what the scripts and the headers need. */
export interface ResolvedRateLimitPolicy {
  /** Name (keys, headers, errors). */
  name: string;
  /** Algorithm. */
  algorithm: RateLimitAlgorithm;
  /** The quota: calls per window, or the burst of a bucket. */
  limit: number;
  /** The window in ms; for a bucket, the time an empty bucket takes to fill up again (burst / rate). */
  windowMs: number;
  /** Refill rate of a bucket in calls per second (`undefined` for window algorithms). */
  ratePerSec: number | undefined;
  /** Fail mode given by the policy itself (`undefined`: the module's). */
  failOpen: boolean | undefined;
}

/** Options of `RateLimitModule.forRoot()` / `forRootAsync()`. */
export interface RateLimitModuleOptions {
  /** RedisModule client the limits live on (default `default`). */
  clientName?: string;
  /**
   * Longest wait for Redis per decision, in milliseconds (default 250), on the shared deadline sweeper. After it the
   * limit's fail mode applies; while the client is disconnected it applies at once.
   */
  timeoutMs?: number;
  /** Fail mode of every limit that does not set its own (default `true`: let calls through while Redis fails). */
  failOpen?: boolean;
  /** Named policies, for `RateLimitService.consume(name, key)` and `@RateLimit('name')`. */
  policies?: Record<string, Omit<RateLimitPolicy, 'name'>>;
  /** Send the `RateLimit-Policy` / `RateLimit` headers from the `@RateLimit` guard (default true). */
  headers?: boolean;
  /**
   * `false` turns the `@RateLimit` guard off: routes are not limited and Redis is not asked (tests, load tests, local
   * runs). `RateLimitService` calls still decide. Default true.
   */
  guard?: boolean;
}

/** Module options after validation, defaults filled in. */
export interface ResolvedRateLimitOptions {
  /** See {@link RateLimitModuleOptions.clientName}. */
  clientName: string;
  /** See {@link RateLimitModuleOptions.timeoutMs}. */
  timeoutMs: number;
  /** See {@link RateLimitModuleOptions.failOpen}. */
  failOpen: boolean;
  /** The named policies, resolved. */
  policies: ReadonlyMap<string, ResolvedRateLimitPolicy>;
  /** See {@link RateLimitModuleOptions.headers}. */
  headers: boolean;
  /** See {@link RateLimitModuleOptions.guard}. */
  guard: boolean;
}

/** Largest limit or burst, so that counts stay exact in Lua's doubles. */
export const MAX_RATE_LIMIT = 1_000_000_000;

/**
 * Validates RateLimitModule options; throws `RedisConfigError` naming the option (`ratelimit.policies.login.limit`).
 */
export function resolveRateLimitOptions(options: RateLimitModuleOptions = {}): ResolvedRateLimitOptions {
  const o = (check.object('ratelimit', options) ?? {}) as RateLimitModuleOptions;
  const policies = new Map<string, ResolvedRateLimitPolicy>();
  const given = check.object('ratelimit.policies', o.policies) ?? {};
  for (const [name, policy] of Object.entries(given)) {
    const path = `ratelimit.policies.${name}`;
    checkPolicyName(path, name);
    const p = check.object(path, policy) as RateLimitPolicy | undefined;
    if (p?.name !== undefined) check.fail(`${path}.name`, 'is the key of the entry in `policies`: leave it out');
    policies.set(name, resolveRateLimitPolicy(path, { ...p, name }));
  }
  return {
    clientName: check.string('ratelimit.clientName', o.clientName) ?? DEFAULT_REDIS_CLIENT,
    timeoutMs: check.durationMs('ratelimit.timeoutMs', o.timeoutMs, { min: 1 }) ?? 250,
    failOpen: check.boolean('ratelimit.failOpen', o.failOpen) ?? true,
    policies,
    headers: check.boolean('ratelimit.headers', o.headers) ?? true,
    guard: check.boolean('ratelimit.guard', o.guard) ?? true,
  };
}

/**
 * Validates one policy; throws `RedisConfigError` naming `<path>.<option>`.
 * @param path where the policy was written, e.g. `@RateLimit(SearchController.search)`
 * @param defaultName the name when the policy gives none
 */
export function resolveRateLimitPolicy(
  path: string,
  policy: RateLimitPolicy,
  defaultName?: string,
): ResolvedRateLimitPolicy {
  const p = (check.object(path, policy) ?? {}) as RateLimitPolicy;
  const name = p.name ?? defaultName;
  if (name === undefined) return check.fail(`${path}.name`, 'is required (the name of the limit)');
  checkPolicyName(`${path}.name`, name);
  const algorithm = check.oneOf(`${path}.algorithm`, p.algorithm, RATE_LIMIT_ALGORITHMS) ?? 'sliding-window';
  const limit = check.positiveInt(`${path}.limit`, p.limit, { max: MAX_RATE_LIMIT });
  const windowMs = check.durationMs(`${path}.windowMs`, p.windowMs, { min: 1 });
  const failOpen = check.boolean(`${path}.failOpen`, p.failOpen);
  if (algorithm === 'fixed-window' || algorithm === 'sliding-window') {
    for (const option of ['ratePerSec', 'burst'] as const) {
      if (p[option] !== undefined) {
        check.fail(`${path}.${option}`, `applies to token-bucket and gcra only (${algorithm} takes limit + windowMs)`);
      }
    }
    if (limit === undefined) return check.fail(`${path}.limit`, `is required for ${algorithm}`);
    if (windowMs === undefined) return check.fail(`${path}.windowMs`, `is required for ${algorithm}`);
    return { name, algorithm, limit, windowMs, ratePerSec: undefined, failOpen };
  }
  let ratePerSec = check.finite(`${path}.ratePerSec`, p.ratePerSec, { min: 0 });
  if (ratePerSec !== undefined && ratePerSec <= 0)
    check.fail(`${path}.ratePerSec`, `must be above 0, got ${ratePerSec}`);
  if (ratePerSec !== undefined && (limit !== undefined || windowMs !== undefined)) {
    check.fail(`${path}.ratePerSec`, 'give either ratePerSec (+ burst) or limit + windowMs, not both');
  }
  if (ratePerSec === undefined) {
    if (limit === undefined || windowMs === undefined) {
      return check.fail(`${path}.ratePerSec`, `is required for ${algorithm} (or limit + windowMs)`);
    }
    ratePerSec = (limit * 1000) / windowMs;
  }
  const burst = check.positiveInt(`${path}.burst`, p.burst, { max: MAX_RATE_LIMIT }) ?? limit ?? Math.ceil(ratePerSec);
  return {
    name,
    algorithm,
    limit: burst,
    windowMs: Math.max(1, Math.ceil((burst * 1000) / ratePerSec)),
    ratePerSec,
    failOpen,
  };
}

/** A policy name: a Redis key part that can also be written in a header's quoted string. */
function checkPolicyName(path: string, name: unknown): void {
  const s = check.keyPart(path, name, 128);
  if (s !== undefined && !/^[A-Za-z0-9.:_$-]+$/.test(s)) {
    check.fail(path, `must hold only letters, digits and . : _ $ -, got ${JSON.stringify(s)}`);
  }
}
