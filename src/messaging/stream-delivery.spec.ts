import { createEnvelope, encodeEnvelope } from './message-envelope';
import { recordingLogger } from '../../test/support/recording-logger';
import { MessagingStats } from './messaging.stats';
import type { Delivery } from './stream-claimer';
import { StreamDelivery, type StreamDeliveryConfig, type StreamHandler } from './stream-delivery';

const text = (payload: unknown) => encodeEnvelope(createEnvelope('jobs', payload));
const delivery = (id: string, data: string | null, priorAttempts = 0): Delivery => ({
  id,
  fields: data === null ? null : { data },
  priorAttempts,
});

/** A StreamDelivery whose dead letters are recorded; the tests never reach Redis (no retry gets that far). */
function setup(handler: StreamHandler, overrides: Partial<StreamDeliveryConfig> = {}) {
  const dead: Array<{ id: string; error: string; attempts: number }> = [];
  const { lines, logger } = recordingLogger();
  const stats = new MessagingStats();
  const abort = new AbortController();
  const processor = new StreamDelivery({
    client: () => {
      throw new Error('this test sends nothing to Redis');
    },
    stream: 'jobs',
    key: 'k',
    group: 'g',
    consumerName: 'c',
    label: 'Jobs.handle',
    handler,
    maxAttempts: 3,
    backoffMs: 10_000,
    concurrency: 1,
    deadLetter: {
      move: async (entry, _raw, error, attempts) => void dead.push({ id: entry.id, error, attempts }),
    },
    stats,
    logger,
    signal: abort.signal,
    ...overrides,
  });
  return { processor, dead, lines, stats, abort };
}

describe('StreamDelivery', () => {
  it('acks a handled message, synchronously when the handler is synchronous; passes the attempt number', async () => {
    const seen: unknown[] = [];
    const { processor, stats } = setup((payload, message) => void seen.push(payload, message.attempt, message.stream));
    expect(processor.one(delivery('1-0', text({ n: 1 }), 1))).toBe(true);
    expect(seen).toEqual([{ n: 1 }, 2, 'jobs']);
    const async = setup(async () => undefined);
    await expect(async.processor.one(delivery('2-0', text(2)))).resolves.toBe(true);
    expect(stats.snapshot().handled).toBe(1);
    expect(processor.one(delivery('3-0', null))).toBe(true); // trimmed away while pending
  });

  it('dead-letters invalid text and messages past maxAttempts (crashed deliveries count), without calling the handler', async () => {
    const handler = jest.fn();
    const { processor, dead, stats } = setup(handler);
    await expect(processor.one(delivery('1-0', '{nope'))).resolves.toBe(false);
    await expect(processor.one(delivery('2-0', text(1), 3))).resolves.toBe(false);
    expect(handler).not.toHaveBeenCalled();
    expect(dead).toEqual([
      { id: '1-0', error: expect.stringMatching(/not valid JSON/), attempts: 0 },
      { id: '2-0', error: 'delivered 3 time(s) without an ack (consumer crashes?)', attempts: 3 },
    ]);
    expect(stats.snapshot()).toMatchObject({ invalid: 1, handled: 0 });
  });

  it('the last failed attempt goes to the DLQ with its error', async () => {
    const { processor, dead, stats, lines } = setup(() => Promise.reject(new Error('poison')));
    await expect(processor.one(delivery('1-0', text(1), 2))).resolves.toBe(false);
    expect(dead).toEqual([{ id: '1-0', error: 'poison', attempts: 3 }]);
    expect(stats.snapshot()).toMatchObject({ failed: 1, retried: 0 });
    expect(lines).toEqual(['error Jobs.handle: message 1-0 failed 3 time(s), moved to the DLQ: poison']);
  });

  it('stopping ends a retry pause at once and leaves the message pending (not acked, not dead-lettered)', async () => {
    const { processor, dead, stats, abort } = setup(() => {
      throw new Error('flaky');
    });
    const outcome = processor.one(delivery('1-0', text(1)));
    abort.abort(); // the backoff is 10 s: only the signal can end it within the test
    await expect(outcome).resolves.toBe(false);
    expect(dead).toEqual([]);
    expect(stats.snapshot()).toMatchObject({ failed: 1, retried: 1 });
  });

  it('handles a batch with at most `concurrency` messages at a time and lists the ones to ack', async () => {
    let running = 0;
    let most = 0;
    const { processor } = setup(
      async (payload) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        if (payload === 3) throw new Error('poison');
      },
      { concurrency: 2, maxAttempts: 1 },
    );
    const acks = await processor.batch([1, 2, 3, 4, 5].map((n) => delivery(`${n}-0`, text(n))));
    expect(most).toBe(2);
    expect(acks.sort()).toEqual(['1-0', '2-0', '4-0', '5-0']);
  });

  it('retries through the delay: schedules the next attempt with its attempts, group and first id, and acks in the same call', async () => {
    const schedule = jest.fn(() => Promise.resolve(new Date()));
    const seen: Array<[number, Date | undefined]> = [];
    const { processor, stats } = setup(
      (_p, message) => {
        seen.push([message.attempt, message.dueAt]);
        throw new Error('flaky');
      },
      { delayed: { schedule }, backoffMs: 100 },
    );
    const raw = text({ n: 1 });
    const scheduled = (attempt: number, entryId: string, delayMs: number) =>
      expect(schedule).toHaveBeenLastCalledWith(
        'jobs',
        `5-0:g:${attempt}`,
        ['data', raw, 'attempts', String(attempt), 'group', 'g', 'sourceId', '5-0'],
        { delayMs },
        { group: 'g', entryId },
      );
    await expect(processor.one(delivery('5-0', raw))).resolves.toBe(false); // acked by the schedule call
    scheduled(1, '5-0', 100);
    // The retry entry: attempts travel with it, the backoff doubles, the first id stays.
    const retry = {
      id: '9-0',
      fields: { data: raw, attempts: '1', group: 'g', sourceId: '5-0', dueAt: '1000' },
      priorAttempts: 0,
    };
    await expect(processor.one(retry)).resolves.toBe(false);
    scheduled(2, '9-0', 200);
    expect(seen).toEqual([
      [1, undefined],
      [2, new Date(1000)],
    ]);
    expect(stats.snapshot()).toMatchObject({ failed: 2, retried: 2 });
    // Another group's retry is acked unseen.
    expect(processor.one({ ...retry, fields: { ...retry.fields, group: 'other' } })).toBe(true);
    expect(seen).toHaveLength(2);
  });
});
