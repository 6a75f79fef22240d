import { RedisConfigError } from '../redis/redis.errors';
import { createEnvelope, encodeEnvelope, parseEnvelope } from './message-envelope';
import {
  DEFAULT_CONSUMER_SETTINGS,
  resolveMessagingOptions,
  withOverrides,
  type MessagingModuleOptions,
} from './messaging.options';
import { StreamClaimer } from './stream-claimer';
import { validateStreamConsumerOptions, type StreamConsumerOptions } from './stream-consumer.decorator';
import { channelKey, deadLetterKey, idempotencyKey, streamKey } from './messaging.keys';
import { parseEntries, parseFlatObject, parseReadGroupReply } from './stream-replies';

describe('message envelope', () => {
  it('encodes exactly like JSON.stringify and parses back', () => {
    const plain = createEnvelope('order.created', { id: 1, note: 'a "quoted" \n line', nested: [1, null] });
    expect(encodeEnvelope(plain)).toBe(JSON.stringify(plain));
    expect(plain.headers.traceId).toBe(plain.id);
    const traced = createEnvelope('x', undefined, { traceId: 't-1', source: 'api' });
    expect(JSON.parse(encodeEnvelope(traced))).toEqual({ ...JSON.parse(JSON.stringify(traced)), payload: null });
    expect(traced.headers).toEqual({ traceId: 't-1', source: 'api' });
    expect(parseEnvelope(encodeEnvelope(plain))).toEqual(plain);
  });

  it('encodes like JSON.stringify whatever the order of types and headers', () => {
    const own = createEnvelope('a', 1);
    const envelopes = [
      createEnvelope('a', 1),
      createEnvelope('b "quoted"', 2),
      createEnvelope('b "quoted"', 3, { source: 'api' }),
      { ...own, headers: { traceId: own.id, source: 'api' } },
      createEnvelope('a', [4], { traceId: 't-2' }),
      createEnvelope('', 5),
    ];
    for (const envelope of envelopes) expect(encodeEnvelope(envelope)).toBe(JSON.stringify(envelope));
  });

  it('refuses text that is not JSON or not an envelope', () => {
    expect(() => parseEnvelope('{nope')).toThrow(/not valid JSON/);
    expect(() => parseEnvelope('{"a":1}')).toThrow(/not an envelope/);
    expect(() => parseEnvelope('null')).toThrow(/not an envelope/);
  });
});

describe('stream replies (RESP2)', () => {
  it('parses XREADGROUP, XAUTOCLAIM entries (deleted ones as null) and XINFO objects', () => {
    const reply = [
      [
        'k',
        [
          ['1-0', ['data', 'x', 'other', 'y']],
          ['2-0', null],
        ],
      ],
    ];
    expect(parseReadGroupReply(reply)).toEqual([
      { id: '1-0', fields: { data: 'x', other: 'y' } },
      { id: '2-0', fields: null },
    ]);
    expect(parseReadGroupReply(null)).toEqual([]);
    expect(parseEntries('junk')).toEqual([]);
    expect(parseFlatObject(['name', 'g', 'lag', 3])).toEqual({ name: 'g', lag: 3 });
  });

  it('puts a stream and its DLQ in one hash slot', () => {
    expect(streamKey('nrk:msg:', 'orders')).toBe('nrk:msg:stream:{orders}');
    expect(deadLetterKey('nrk:msg:', 'orders')).toBe('nrk:msg:stream:{orders}:dlq');
  });

  it('builds channel and idempotency keys under the feature prefix', () => {
    expect(channelKey('nrk:msg:', 'order.*')).toBe('nrk:msg:order.*');
    expect(idempotencyKey('nrk:msg:', 'm-1')).toBe('nrk:msg:done:m-1');
  });
});

describe('MessagingModule options', () => {
  it('fills in defaults', () => {
    expect(resolveMessagingOptions({}, 'host-1')).toEqual({
      clientName: 'default',
      streamMaxLen: 100_000,
      deadLetterMaxLen: 10_000,
      delayedPollMs: 100,
      consumerName: 'host-1',
      consumerDefaults: DEFAULT_CONSUMER_SETTINGS,
      clusterPubSub: 'sharded',
      disableConsumers: false,
      shutdownTimeoutMs: 10_000,
    });
  });

  it.each([
    [{ streamMaxLen: -1 }, 'messaging.streamMaxLen'],
    [{ consumerName: 'a b' }, 'messaging.consumerName'],
    [{ clusterPubSub: 'x' as 'classic' }, 'messaging.clusterPubSub'],
    [{ consumerDefaults: { maxAttempts: 0 } }, 'messaging.consumerDefaults.maxAttempts'],
    [{ consumerDefaults: { blockMs: 1.5 } }, 'messaging.consumerDefaults.blockMs'],
    [{ consumerDefaults: { startId: '>' as '0' } }, 'messaging.consumerDefaults.startId'],
    [{ transport: { service: 'billing' } } as MessagingModuleOptions, 'messaging.transport'],
  ])('refuses %j with RedisConfigError naming %s', (options, option) => {
    try {
      resolveMessagingOptions(options, 'h');
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(RedisConfigError);
      expect((err as RedisConfigError).option).toBe(option);
    }
  });
});

describe('@StreamConsumer options', () => {
  const path = '@StreamConsumer(Billing.handle)';
  it.each([
    [{ stream: 'orders', group: 'billing', maxAttempts: 0 }, `${path}.maxAttempts`],
    [{ stream: 'orders', group: 'billing', claimIdleMs: 0 }, `${path}.claimIdleMs`],
    [{ stream: 'orders', group: 'billing', concurrency: 2.5 }, `${path}.concurrency`],
    [{ stream: 'orders', group: 'billing', startId: '>' }, `${path}.startId`],
    [{ stream: 'ord{ers}', group: 'billing' }, `${path}.stream`],
    [{ stream: 'orders', group: 'bill ing' }, `${path}.group`],
    [{ group: 'billing' }, `${path}.stream`],
    [{ stream: 'orders', group: '' }, `${path}.group`],
  ])('refuses %j with RedisConfigError naming %s', (options, option) => {
    try {
      validateStreamConsumerOptions(path, options as StreamConsumerOptions);
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(RedisConfigError);
      expect((err as RedisConfigError).option).toBe(option);
    }
  });

  it("accepts good options; a consumer's own settings override the module defaults, undefined ones do not", () => {
    expect(() =>
      validateStreamConsumerOptions(path, { stream: 'orders', group: 'billing', backoffMs: 0 }),
    ).not.toThrow();
    expect(withOverrides(DEFAULT_CONSUMER_SETTINGS, { maxAttempts: 2, blockMs: undefined })).toEqual({
      ...DEFAULT_CONSUMER_SETTINGS,
      maxAttempts: 2,
    });
  });
});

describe('StreamClaimer schedule', () => {
  const claimer = (claimIdleMs: number) =>
    new StreamClaimer({
      client: () => {
        throw new Error('no Redis here');
      },
      key: 'k',
      group: 'g',
      consumerName: 'c',
      claimIdleMs,
      batchSize: 10,
    });

  it('is due at once, then every half claimIdleMs (between 100 ms and 30 s)', () => {
    const c = claimer(1_000);
    expect(c.due).toBe(true);
    c.scanned();
    expect(c.due).toBe(false);
    expect(c.msUntilDue).toBeGreaterThan(400);
    expect(c.msUntilDue).toBeLessThanOrEqual(500);
    const short = claimer(10);
    short.scanned();
    expect(short.msUntilDue).toBeGreaterThan(50);
    const long = claimer(3_600_000);
    long.scanned();
    expect(long.msUntilDue).toBeLessThanOrEqual(30_000);
  });
});
