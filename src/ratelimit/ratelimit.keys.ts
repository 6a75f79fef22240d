import { rateBlockKey, rateStateKey } from '../core/rate-decision';

/**
 * The keys of the rate limits, under `<prefix>ratelimit:`: `<prefix>ratelimit:{<limit name>:<client key>}`, one hash
 * tag per limit and client (the shared rate-decision layout, {@link rateStateKey}), so that the keys one decision
 * touches (the fixed window's counter and its block marker) live in one Cluster slot.
 */
export class RateLimitKeys {
  /** @param prefix `<prefix>ratelimit:` (from `RedisService.prefixFor('ratelimit')`) */
  constructor(readonly prefix: string) {}

  /** The state of one limit for one client key. */
  state(policyName: string, key: string): string {
    return rateStateKey(this.prefix, policyName, key);
  }

  /** The block marker that goes with a fixed-window counter: `<state key>:block`. */
  block(stateKey: string): string {
    return rateBlockKey(stateKey);
  }
}
