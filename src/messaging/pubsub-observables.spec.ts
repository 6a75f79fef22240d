import { createEnvelope, type MessageEnvelope } from './message-envelope';
import { LISTEN_BUFFER_LIMIT, listenTo, observeSubscription, type Subscribe } from './pubsub-observables';
import type { MessageHandler } from './subscription.registry';

/** A subscription the test drives: `emit` delivers a message to the current handler. */
function fakeSubscription(options: { fail?: Error } = {}) {
  const state = { handler: undefined as MessageHandler<number> | undefined, subscribed: 0, unsubscribed: 0 };
  let confirm: (() => void) | undefined;
  const subscribe: Subscribe<number> = (handler) =>
    new Promise((resolve, reject) => {
      if (options.fail) return reject(options.fail);
      confirm = () => {
        state.handler = handler;
        state.subscribed++;
        resolve(async () => {
          state.handler = undefined;
          state.unsubscribed++;
        });
      };
    });
  const emit = (n: number) => state.handler?.(n, createEnvelope('t', n) as MessageEnvelope<number>);
  return { state, subscribe, emit, confirm: () => confirm?.() };
}

const tick = () => new Promise((r) => setImmediate(r));
const payloads = (list: Array<MessageEnvelope<number>>) => list.map((e) => e.payload);

describe('observeSubscription', () => {
  it('subscribes per Observable subscriber, says when confirmed, ends on teardown', async () => {
    const sub = fakeSubscription();
    let live = 0;
    const got: Array<MessageEnvelope<number>> = [];
    const s = observeSubscription(sub.subscribe, () => live++).subscribe((e) => got.push(e));
    expect(live).toBe(0);
    sub.confirm();
    await tick();
    expect(live).toBe(1);
    sub.emit(1);
    expect(payloads(got)).toEqual([1]);
    s.unsubscribe();
    await tick();
    expect(sub.state.unsubscribed).toBe(1);
  });

  it('a teardown before the confirmation unsubscribes once confirmed', async () => {
    const sub = fakeSubscription();
    const s = observeSubscription(sub.subscribe).subscribe();
    s.unsubscribe();
    sub.confirm();
    await tick();
    expect(sub.state.unsubscribed).toBe(1);
  });

  it('errors when the subscription fails', async () => {
    const sub = fakeSubscription({ fail: new Error('down') });
    let error: unknown;
    observeSubscription(sub.subscribe).subscribe({ error: (err: unknown) => (error = err) });
    await tick();
    expect(String(error)).toMatch(/down/);
  });
});

describe('listenTo', () => {
  it('keeps early messages (at most the limit) for its one subscriber, then delivers live', async () => {
    const sub = fakeSubscription();
    const listening = listenTo(sub.subscribe, 'feed');
    sub.confirm();
    const events = await listening;
    for (let n = 0; n < LISTEN_BUFFER_LIMIT + 5; n++) sub.emit(n);
    const got: Array<MessageEnvelope<number>> = [];
    const s = events.subscribe((e) => got.push(e));
    expect(got).toHaveLength(LISTEN_BUFFER_LIMIT);
    expect(got[0].payload).toBe(0);
    sub.emit(-1);
    expect(got.at(-1)?.payload).toBe(-1);
    let second: unknown;
    events.subscribe({ error: (err: unknown) => (second = err) });
    expect(String(second)).toMatch(/listen\("feed"\) gives an Observable for one subscriber/);
    s.unsubscribe();
    await tick();
    expect(sub.state.unsubscribed).toBe(1);
  });

  it('the signal ends the subscription, subscribed or not; a later subscriber completes at once', async () => {
    const sub = fakeSubscription();
    const abort = new AbortController();
    const listening = listenTo(sub.subscribe, 'feed', abort.signal);
    sub.confirm();
    const events = await listening;
    sub.emit(1);
    abort.abort();
    await tick();
    expect(sub.state.unsubscribed).toBe(1);
    let completed = false;
    const got: unknown[] = [];
    events.subscribe({ next: (e) => got.push(e), complete: () => (completed = true) });
    expect(completed).toBe(true);
    expect(got).toEqual([]);
  });

  it('an already aborted signal ends it at once; a failed subscription rejects', async () => {
    const sub = fakeSubscription();
    const listening = listenTo(sub.subscribe, 'feed', AbortSignal.abort());
    sub.confirm();
    await listening;
    await tick();
    expect(sub.state.unsubscribed).toBe(1);
    await expect(listenTo(fakeSubscription({ fail: new Error('down') }).subscribe, 'feed')).rejects.toThrow('down');
  });
});
