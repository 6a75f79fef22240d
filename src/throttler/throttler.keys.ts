import { rateBlockKey, rateStateKey } from '../core/rate-decision';

/**
 * The keys of the rate limiter, under `<prefix>throttle:` (the shared rate-decision layout, {@link rateStateKey}).
 * One hash tag per tracker and throttler, so that the counter and its block marker live in one Cluster slot (the hit
 * script touches both).
 */
export class ThrottlerKeys {
  /** @param prefix `<prefix>throttle:` (from `RedisService.prefixFor('throttle')`) */
  constructor(readonly prefix: string) {}

  /** The hit counter of one tracker key and throttler: `<prefix>throttle:{<throttlerName>:<key>}`. */
  hits(key: string, throttlerName: string): string {
    return rateStateKey(this.prefix, throttlerName, key);
  }

  /** The block marker that goes with a hit counter: `<hits key>:block`. */
  block(hitsKey: string): string {
    return rateBlockKey(hitsKey);
  }
}
