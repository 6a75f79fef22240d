import { RedisUnavailableError, toRedisUnavailable } from '../redis/redis.errors';
import { SweptCommand, deadlines } from './deadline-sweeper';
import type { LuaScript } from './lua-script';
import { FIXED_WINDOW, GCRA, SLIDING_WINDOW, TOKEN_BUCKET } from './rate-decision.scripts';
import type { DecisionRunner } from './rate-decision.runner';

/**
 * The algorithms of a rate decision (their bounds: docs/ratelimit.md):
 * - `fixed-window`: `limit` calls per `windowMs`, the window opening at the first call. Cheapest; lets up to
 *   2 × `limit` through around a window's end.
 * - `sliding-window`: weighted counter over the current and the previous fixed window. O(1) memory; under steady
 *   traffic it admits `limit` per window, and refuses the burst a fixed window lets through at its edge.
 * - `token-bucket`: `burst` calls at once, refilled at `ratePerSec`.
 * - `gcra`: the same decisions as the token bucket, kept in one number (the theoretical arrival time).
 */
export type RateDecisionAlgorithm = 'fixed-window' | 'sliding-window' | 'token-bucket' | 'gcra';

/** Every {@link RateDecisionAlgorithm}. */
export const RATE_DECISION_ALGORITHMS: readonly RateDecisionAlgorithm[] = [
  'fixed-window',
  'sliding-window',
  'token-bucket',
  'gcra',
];

/** A decision: [1 allowed / 0 refused, remaining or count, reset ms, retry-after ms] ({@link parseDecisionReply}). */
export type DecisionReply = [number, number, number, number];

/**
 * The {@link DecisionReply} in what a decision script answers: four integers separated by single spaces
 * (`"1 4 59000 0"`), read in one pass without splitting the string.
 * @throws Error when the reply is not four integers (a script of another version)
 */
export function parseDecisionReply(reply: unknown): DecisionReply {
  if (typeof reply !== 'string') throw new Error(`Unexpected rate decision reply: ${String(reply)}`);
  const out: DecisionReply = [0, 0, 0, 0];
  let field = 0;
  let value = 0;
  let negative = false;
  let digits = 0;
  for (let i = 0; i <= reply.length; i++) {
    const c = i < reply.length ? reply.charCodeAt(i) : 32; // the end closes the last field
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits++;
    } else if (c === 45 && digits === 0 && !negative) {
      negative = true;
    } else if (c === 32 && digits > 0 && field < 4) {
      out[field++] = negative ? -value : value;
      value = 0;
      negative = false;
      digits = 0;
    } else {
      field = -1;
      break;
    }
  }
  if (field !== 4) throw new Error(`Unexpected rate decision reply: "${reply}"`);
  return out;
}

/** What a {@link RateDecider} decides on: an algorithm and its (already checked) numbers. */
export interface RateDecisionParams {
  /** The algorithm. */
  algorithm: RateDecisionAlgorithm;
  /** Calls per window (window algorithms), or the burst of a bucket. */
  limit: number;
  /** The window in ms (window algorithms; ignored by buckets, which take `ratePerSec`). */
  windowMs: number;
  /** Refill rate of `token-bucket` / `gcra` in calls per second; `undefined` for window algorithms. */
  ratePerSec: number | undefined;
}

/**
 * The key of one limit for one client, `<feature prefix>{<limit name>:<client key>}`: one hash tag per limit and
 * client, so that the keys one decision touches (a fixed window's counter and its `:block` marker) live in one
 * Cluster slot.
 * @param prefix the feature's prefix, e.g. `nrk:ratelimit:` (from `RedisService.prefixFor`)
 */
export function rateStateKey(prefix: string, name: string, key: string): string {
  return `${prefix}{${name}:${key}}`;
}

/** The block marker that goes with a fixed-window counter (only the throttler's script writes it): `<state key>:block`. */
export function rateBlockKey(stateKey: string): string {
  return `${stateKey}:block`;
}

/**
 * One limit's decisions on its algorithm's script, in limiter mode (a refused call costs nothing): one Lua call per
 * decision on the Redis clock, through a {@link DecisionRunner} (deadline, outage breaker). The caller names the
 * state key ({@link rateStateKey}) and turns the reply into its own answer.
 *
 * ```ts
 * const logins = new RateDecider({ algorithm: 'fixed-window', limit: 5, windowMs: 900_000, ratePerSec: undefined }, runner);
 * const reply = await logins.decide(rateStateKey(prefix, 'login', digest), 1);   // or the RedisUnavailableError
 * ```
 */
export class RateDecider {
  private readonly script: LuaScript;
  /** ARGV[1] of the script: the window (window algorithms) or the rate (buckets). */
  private readonly periodArg: number;
  private readonly fixed: boolean;

  /**
   * @param params the algorithm and its numbers (checked by the caller: positive integers, a positive rate)
   * @param runner runs the script (its client, deadline and breaker)
   */
  constructor(
    readonly params: RateDecisionParams,
    readonly runner: DecisionRunner,
  ) {
    this.fixed = params.algorithm === 'fixed-window';
    this.script = scriptOf(params.algorithm);
    this.periodArg = params.ratePerSec ?? params.windowMs;
  }

  /**
   * Takes `cost` from the limit of `stateKey`, or refuses. The fixed window's reply holds the count in the window
   * (the others' what remains): see {@link remainingOf}.
   * @param stateKey the key of this limit and client ({@link rateStateKey})
   * @param cost units this call uses (1 to the limit)
   * @returns the script's reply, or the `RedisUnavailableError` that kept Redis from deciding
   * @throws what is not Redis being unavailable (a script error)
   */
  decide(stateKey: string, cost: number): Promise<DecisionReply | RedisUnavailableError> {
    return this.runner.run(this.script, [stateKey], [this.periodArg, this.params.limit, cost]);
  }

  /** Calls still allowed after a reply (the fixed window answers its count, the others what remains). */
  remainingOf(reply: DecisionReply): number {
    return this.fixed ? Math.max(0, this.params.limit - Number(reply[1])) : Number(reply[1]);
  }

  /**
   * Forgets what the client of `stateKey` has used (e.g. the failed attempts once a login succeeds): one DEL of the
   * state and its block marker (one slot), bounded like a decision by the runner's `timeoutMs`.
   * @param what for the error message, e.g. `the rate limit "login"`
   * @throws RedisUnavailableError when Redis cannot be reached (at once while disconnected), or a `RedisTimeoutError`
   */
  async reset(stateKey: string, what: string): Promise<void> {
    const client = this.runner.client();
    if (!this.runner.breaker.allow(client)) {
      throw new RedisUnavailableError(`Could not reset ${what}: Redis client is ${client.status}`);
    }
    try {
      await deadlines.send(client, new SweptCommand('del', [stateKey, rateBlockKey(stateKey)]), this.runner.timeoutMs);
    } catch (err) {
      throw toRedisUnavailable(err, `Could not reset ${what}`);
    }
  }
}

function scriptOf(algorithm: RateDecisionAlgorithm): LuaScript {
  switch (algorithm) {
    case 'fixed-window':
      return FIXED_WINDOW;
    case 'sliding-window':
      return SLIDING_WINDOW;
    case 'token-bucket':
      return TOKEN_BUCKET;
    case 'gcra':
      return GCRA;
  }
}
