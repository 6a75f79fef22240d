import { Observable } from 'rxjs';
import type { MessageEnvelope } from './message-envelope';
import type { MessageHandler } from './subscription.registry';

/** Makes one subscription with `handler`; resolves, once Redis confirmed it, with the function that ends it. */
export type Subscribe<T> = (handler: MessageHandler<T>) => Promise<() => Promise<void>>;

/** Messages {@link listenTo} keeps for its Observable until it is subscribed; later ones are dropped. */
export const LISTEN_BUFFER_LIMIT = 100;

/**
 * A cold Observable of the envelopes of one subscription: each Observable subscriber makes its own subscription
 * (through `subscribe`) and ends it on teardown. `onSubscribed` is called once Redis confirmed it; a failed
 * subscription errors the Observable.
 */
export function observeSubscription<T>(
  subscribe: Subscribe<T>,
  onSubscribed?: () => void,
): Observable<MessageEnvelope<T>> {
  return new Observable<MessageEnvelope<T>>((subscriber) => {
    let off: (() => Promise<void>) | undefined;
    let done = false;
    subscribe((_payload, envelope) => subscriber.next(envelope)).then(
      (unsubscribe) => {
        if (done) {
          void unsubscribe();
          return;
        }
        off = unsubscribe;
        onSubscribed?.();
      },
      (err: unknown) => subscriber.error(err),
    );
    return () => {
      done = true;
      if (off) void off();
    };
  });
}

/**
 * Subscribes now (through `subscribe`, so a failure rejects here) and resolves with an Observable of the envelopes
 * from that moment on, for one subscriber. Envelopes that arrive before it is subscribed wait for it (at most
 * {@link LISTEN_BUFFER_LIMIT}; later ones are dropped). The subscription ends when the Observable is unsubscribed or
 * `signal` aborts, whichever comes first (also when the Observable was never subscribed); an Observable subscribed
 * after that completes at once, a second subscriber gets an error.
 * @param name the channel, for the error of a second subscriber
 */
export async function listenTo<T>(
  subscribe: Subscribe<T>,
  name: string,
  signal?: AbortSignal,
): Promise<Observable<MessageEnvelope<T>>> {
  const early: Array<MessageEnvelope<T>> = [];
  let deliver: ((envelope: MessageEnvelope<T>) => void) | undefined;
  const unsubscribe = await subscribe((_payload, envelope) => {
    if (deliver) deliver(envelope);
    else if (early.length < LISTEN_BUFFER_LIMIT) early.push(envelope);
  });
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    deliver = undefined;
    early.length = 0;
    signal?.removeEventListener('abort', end);
    void unsubscribe();
  };
  if (signal?.aborted) end();
  else signal?.addEventListener('abort', end, { once: true });
  let taken = false;
  return new Observable<MessageEnvelope<T>>((subscriber) => {
    if (taken) {
      subscriber.error(new Error(`listen("${name}") gives an Observable for one subscriber`));
      return undefined;
    }
    taken = true;
    if (ended) {
      subscriber.complete();
      return undefined;
    }
    for (const envelope of early.splice(0)) subscriber.next(envelope);
    deliver = (envelope) => subscriber.next(envelope);
    return end;
  });
}
