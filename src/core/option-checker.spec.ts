import { RedisConfigError } from '../redis/redis.errors';
import { OptionChecker, check } from './option-checker';

class CallError extends Error {
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`bad ${option}: ${problem}`);
  }
}

describe('OptionChecker', () => {
  it('returns usable values and undefined for absent ones', () => {
    expect(check.durationMs('a.ttlMs', 0)).toBe(0);
    expect(check.durationMs('a.ttlMs', undefined)).toBeUndefined();
    expect(check.positiveInt('a.n', 3)).toBe(3);
    expect(check.nonNegativeInt('a.n', 0)).toBe(0);
    expect(check.finite('a.f', 0.5, { min: 0, max: 1 })).toBe(0.5);
    expect(check.boolean('a.b', false)).toBe(false);
    expect(check.string('a.s', 'x')).toBe('x');
    expect(check.keyPart('a.k', 'orders')).toBe('orders');
    expect(check.oneOf('a.mode', 'open', ['open', 'closed'] as const)).toBe('open');
    expect(check.object('a.o', {})).toEqual({});
  });

  it.each([
    [
      'durationMs',
      () => check.durationMs('cache.readTimeoutMs', -1),
      /cache\.readTimeoutMs.*must be a non-negative integer number of milliseconds, got -1/,
    ],
    [
      'durationMs fraction',
      () => check.durationMs('cache.readTimeoutMs', 1.5),
      /non-negative integer number of milliseconds, got 1\.5/,
    ],
    ['durationMs min', () => check.durationMs('lock.ttlMs', 10, { min: 30 }), /lock\.ttlMs.*at least 30/],
    ['durationMs string', () => check.durationMs('x.ms', '5'), /got "5"/],
    ['positiveInt', () => check.positiveInt('x.n', 0), /x\.n.*must be a positive integer, got 0/],
    ['positiveInt max', () => check.positiveInt('x.n', 11, { max: 10 }), /at most 10/],
    ['finite', () => check.finite('x.f', Number.NaN), /finite number/],
    ['boolean', () => check.boolean('x.b', 'yes'), /true or false/],
    ['string', () => check.string('x.s', ''), /non-empty string/],
    ['string length', () => check.string('x.s', 'abc', 2), /at most 2 characters/],
    ['keyPart', () => check.keyPart('x.k', 'a{b}'), /whitespace or braces/],
    ['oneOf', () => check.oneOf('x.m', 'maybe', ['open', 'closed']), /one of "open", "closed", got "maybe"/],
    ['object', () => check.object('x.o', null), /must be an object/],
  ])('%s: throws a RedisConfigError naming the dotted path', (_name, run, message) => {
    expect(run).toThrow(RedisConfigError);
    expect(run).toThrow(message);
  });

  it('a feature checker throws its own error type', () => {
    const calls = new OptionChecker((path, problem) => new CallError(path, problem));
    expect(() => calls.durationMs('ttlMs', -5)).toThrow(CallError);
    try {
      calls.positiveInt('limit', 0);
    } catch (err) {
      expect((err as CallError).option).toBe('limit');
    }
  });
});
