import { IsInt } from 'class-validator';
import { createEnvelope, encodeEnvelope } from './message-envelope';
import { recordingLogger } from '../../test/support/recording-logger';
import { MessagingStats } from './messaging.stats';
import { PubSubDispatcher } from './pubsub-dispatcher';
import type { MessageHandler, Registration } from './subscription.registry';

class CountDto {
  @IsInt()
  n!: number;
}

function setup() {
  const { lines, logger } = recordingLogger();
  const stats = new MessagingStats();
  return { lines, stats, dispatcher: new PubSubDispatcher(stats, logger) };
}

const handlers = (...list: Array<Partial<Registration> & { handler: MessageHandler }>) =>
  new Set(list.map((r, i) => ({ label: `h${i}`, ...r })));
const settle = () => new Promise((r) => setTimeout(r, 10));

describe('PubSubDispatcher', () => {
  it('calls every handler with payload and envelope; a throwing or rejecting one is counted and logged, the others run', async () => {
    const { dispatcher, stats, lines } = setup();
    const envelope = createEnvelope('order.created', { id: 1 });
    const seen: unknown[] = [];
    dispatcher.dispatch(
      'channel:k',
      encodeEnvelope(envelope),
      handlers(
        {
          handler: () => {
            throw new Error('sync boom');
          },
        },
        { handler: (p, e) => void seen.push(p, e.id) },
        { handler: () => Promise.reject(new Error('async boom')) },
        { handler: async () => undefined },
      ),
    );
    expect(seen).toEqual([{ id: 1 }, envelope.id]); // synchronous without a DTO
    await settle();
    expect(stats.snapshot()).toMatchObject({ received: 1, handled: 2, failed: 2 });
    expect(lines).toEqual([
      `error Handler h0 failed on message ${envelope.id} (trace ${envelope.id}): sync boom`,
      `error Handler h2 failed on message ${envelope.id} (trace ${envelope.id}): async boom`,
    ]);
  });

  it('drops text that is not an envelope (counted once, logged)', () => {
    const { dispatcher, stats, lines } = setup();
    const handler = jest.fn();
    dispatcher.dispatch('pattern:p.*', '{nope', handlers({ handler }, { handler }));
    expect(handler).not.toHaveBeenCalled();
    expect(stats.snapshot()).toMatchObject({ received: 1, invalid: 1, handled: 0 });
    expect(lines[0]).toMatch(/^warn Dropped a message on pattern:p\.\*: message is not valid JSON/);
  });

  it('validates per handler with its DTO: an invalid payload skips that handler only', async () => {
    const { dispatcher, stats, lines } = setup();
    const got: unknown[] = [];
    const text = encodeEnvelope(createEnvelope('count', { n: 'x' }));
    dispatcher.dispatch(
      'channel:k',
      text,
      handlers({ handler: (p) => void got.push(p), dto: CountDto }, { handler: (p) => void got.push(p) }),
    );
    await settle();
    expect(got).toEqual([{ n: 'x' }]);
    expect(stats.snapshot()).toMatchObject({ invalid: 1, handled: 1 });
    expect(lines[0]).toMatch(/^warn Invalid message .* for h0: Invalid payload on "count"/);
    dispatcher.dispatch(
      'channel:k',
      encodeEnvelope(createEnvelope('count', { n: 2 })),
      handlers({ handler: (p) => void got.push(p), dto: CountDto }),
    );
    await settle();
    expect(got.at(-1)).toBeInstanceOf(CountDto);
  });
});
