import { settleWithin } from '../core/deadline';
import type { MessageEnvelope } from './message-envelope';
import type { PayloadDto } from './payload-validation';
import { subscriptionId, type SubscriptionKind } from './pubsub-mode';

/** A pub/sub handler: gets the (validated) payload and the whole envelope. */
export type MessageHandler<T = unknown> = (payload: T, envelope: MessageEnvelope<T>) => unknown;

/** One handler of a subscription, as registered. */
export interface Registration {
  /** Called for every message. */
  readonly handler: MessageHandler;
  /** Validates payloads before the handler is called. */
  readonly dto?: PayloadDto;
  /** Name used in logs. */
  readonly label: string;
}

/** Where the registry subscribes in Redis (a {@link PubSubSubscriber}). */
export interface SubscriptionBackend {
  /** True when unsubscribing at shutdown can be answered. */
  readonly ready: boolean;
  /** Resolves once Redis confirmed the subscription. */
  subscribe(kind: SubscriptionKind, key: string): Promise<void>;
  /** Unsubscribes from `keys` (all of one kind). */
  unsubscribe(kind: SubscriptionKind, keys: string[]): Promise<void>;
}

/**
 * The subscriptions of one event bus: per subscription (`<kind>:<key>`) its handlers, and its SUBSCRIBE as one
 * promise settled once Redis answered. Every caller of a subscription awaits that same promise, so concurrent
 * callers share one SUBSCRIBE and each resolves only once Redis confirmed it. A failed one is dropped (and its
 * caller's handler forgotten), so the next caller asks Redis again. The last handler to leave unsubscribes.
 */
export class SubscriptionRegistry {
  private readonly handlers = new Map<string, Set<Registration>>();
  private readonly confirmed = new Map<string, Promise<void>>();
  private closed = false;

  /** @param backend subscribes and unsubscribes in Redis */
  constructor(private readonly backend: SubscriptionBackend) {}

  /**
   * Adds `registration` to the subscription `kind`/`key` and resolves, once Redis has confirmed the subscription,
   * with the function that removes it again. When the subscription fails, rejects with its error and keeps nothing.
   */
  async add(kind: SubscriptionKind, key: string, registration: Registration): Promise<() => Promise<void>> {
    const id = subscriptionId(kind, key);
    let set = this.handlers.get(id);
    if (!set) {
      set = new Set();
      this.handlers.set(id, set);
    }
    set.add(registration);
    try {
      await this.confirmedInRedis(id, kind, key);
    } catch (err) {
      set.delete(registration);
      if (set.size === 0 && this.handlers.get(id) === set) this.handlers.delete(id);
      throw err;
    }
    return () => this.remove(id, kind, key, registration);
  }

  /** The handlers of subscription `id` (`<kind>:<key>`); none once closed. */
  handlersOf(id: string): ReadonlySet<Registration> | undefined {
    if (this.closed) return undefined;
    const set = this.handlers.get(id);
    return set && set.size > 0 ? set : undefined;
  }

  /**
   * Shutdown: forgets every handler (no more messages are delivered) and unsubscribes in Redis, waiting at most
   * `timeoutMs` milliseconds for the answer.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    const ids = [...this.handlers.keys()];
    this.handlers.clear();
    this.confirmed.clear();
    if (!this.backend.ready) return;
    const byKind: Record<SubscriptionKind, string[]> = { channel: [], pattern: [] };
    for (const id of ids) {
      const kind: SubscriptionKind = id.startsWith('pattern:') ? 'pattern' : 'channel';
      byKind[kind].push(id.slice(kind.length + 1));
    }
    const pending = (['channel', 'pattern'] as const)
      .filter((kind) => byKind[kind].length > 0)
      .map((kind) => this.backend.unsubscribe(kind, byKind[kind]));
    await settleWithin(Promise.all(pending), timeoutMs, undefined);
  }

  private async remove(id: string, kind: SubscriptionKind, key: string, registration: Registration): Promise<void> {
    const current = this.handlers.get(id);
    if (!current?.delete(registration) || current.size > 0) return;
    this.handlers.delete(id);
    this.confirmed.delete(id);
    await this.backend.unsubscribe(kind, [key]).catch(() => undefined);
  }

  /** Resolves once Redis has confirmed the subscription `id`, sharing one SUBSCRIBE among concurrent callers. */
  private confirmedInRedis(id: string, kind: SubscriptionKind, key: string): Promise<void> {
    let done = this.confirmed.get(id);
    if (!done) {
      const attempt = this.backend.subscribe(kind, key);
      // Registered first, so the entry is gone before any caller sees the error.
      attempt.catch(() => {
        if (this.confirmed.get(id) === attempt) this.confirmed.delete(id);
      });
      this.confirmed.set(id, attempt);
      done = attempt;
    }
    return done;
  }
}
