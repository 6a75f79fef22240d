import { DEFAULT_CONSUMER_SETTINGS } from '../messaging/messaging.options';
import { eventStreamName, isReplyStreamName, replyStreamName, requestStreamName } from './transport.keys';
import { resolveTransportOptions } from './transport.options';
import { decodeReply, encodeReply, errorReply, toError } from './transport.replies';
import { RedisStreamsRecord, RedisStreamsRecordBuilder } from './redis-streams.record';

describe('transport replies', () => {
  it('round-trips values, errors and completion', () => {
    for (const packet of [
      { response: { a: 1 } },
      { response: 0, isDisposed: true },
      { isDisposed: true },
      { err: { status: 'error', code: 'X', message: 'm' }, isDisposed: true },
    ]) {
      expect(decodeReply(encodeReply(packet))).toEqual(packet);
    }
  });

  it("sends an Error as Nest's RPC shape, and a reply that cannot be encoded as an error reply", () => {
    expect(decodeReply(encodeReply({ err: new Error('nope') }))).toEqual({
      err: { status: 'error', message: 'nope' },
    });
    expect(decodeReply(encodeReply({ response: { n: 1n } }))).toEqual({
      err: { status: 'error', message: expect.stringContaining('the reply could not be encoded') as unknown },
      isDisposed: true,
    });
    expect(decodeReply('not json')).toEqual(errorReply('the reply could not be decoded'));
  });

  it('turns thrown values into Errors that keep the whole reason', () => {
    const err = new Error('x');
    expect(toError(err)).toBe(err);
    expect(toError({ status: 'error', message: ['qty must be positive'] }).message).toBe(
      '{"status":"error","message":["qty must be positive"]}',
    );
    expect(toError('plain').message).toBe('plain');
  });
});

describe('transport stream names', () => {
  it('names each stream as its own hash tag part', () => {
    expect(eventStreamName('order.created')).toBe('evt:order.created');
    expect(requestStreamName('billing')).toBe('rpc:billing');
    expect(replyStreamName('host-1-ab')).toBe('reply:host-1-ab');
  });

  it('accepts only reply stream names as reply targets', () => {
    expect(isReplyStreamName('reply:host-1-ab')).toBe(true);
    expect(isReplyStreamName('evt:order.created')).toBe(false);
    expect(isReplyStreamName('reply:}x{')).toBe(false);
    expect(isReplyStreamName('reply:')).toBe(false);
  });
});

describe('resolveTransportOptions', () => {
  it('fills in the defaults (concurrency 32 over the module defaults)', () => {
    expect(resolveTransportOptions(undefined, DEFAULT_CONSUMER_SETTINGS)).toEqual({
      service: undefined,
      sendTo: undefined,
      requestTimeoutMs: 5_000,
      consumer: { ...DEFAULT_CONSUMER_SETTINGS, concurrency: 32 },
      requestMaxLen: 10_000,
      replyMaxLen: 10_000,
      replyTtlMs: 60_000,
    });
    expect(resolveTransportOptions({ service: 'billing' }, DEFAULT_CONSUMER_SETTINGS).sendTo).toBe('billing');
  });

  it('refuses unusable values, naming the option', () => {
    expect(() => resolveTransportOptions({ service: 'a b' }, DEFAULT_CONSUMER_SETTINGS)).toThrow(
      expect.objectContaining({ option: 'transport.service' }) as unknown as Error,
    );
    expect(() => resolveTransportOptions({ requestTimeoutMs: 0 }, DEFAULT_CONSUMER_SETTINGS)).toThrow(
      expect.objectContaining({ option: 'transport.requestTimeoutMs' }) as unknown as Error,
    );
    expect(() => resolveTransportOptions({ consumer: { maxAttempts: 0 } }, DEFAULT_CONSUMER_SETTINGS)).toThrow(
      expect.objectContaining({ option: 'transport.consumer.maxAttempts' }) as unknown as Error,
    );
  });
});

describe('RedisStreamsRecord', () => {
  it('carries a delay for emit(): delayMs (0 = at once) or at, built directly or with the builder', () => {
    expect(new RedisStreamsRecord({ a: 1 }, { delayMs: 250 })).toMatchObject({
      data: { a: 1 },
      delayMs: 250,
      delayed: true,
    });
    expect(new RedisStreamsRecord({}, { delayMs: 0 }).delayed).toBe(false);
    const at = new Date(Date.now() + 1_000);
    const built = new RedisStreamsRecordBuilder<{ a: number }>()
      .setData({ a: 2 })
      .setOptions({ headers: { tenant: 't' } })
      .setOptions({ at })
      .build();
    expect(built).toMatchObject({ data: { a: 2 }, headers: { tenant: 't' }, at, delayed: true });
  });

  it('refuses an unusable delay, naming the option', () => {
    expect(() => new RedisStreamsRecord({}, { delayMs: -1 })).toThrow(
      expect.objectContaining({ option: 'RedisStreamsRecord.delayMs' }) as unknown as Error,
    );
    expect(() => new RedisStreamsRecord({}, { at: new Date(Number.NaN) })).toThrow(
      expect.objectContaining({ option: 'RedisStreamsRecord.at' }) as unknown as Error,
    );
    expect(() => new RedisStreamsRecord({}, { delayMs: 5, at: new Date() })).toThrow('cannot be combined with at');
  });
});
