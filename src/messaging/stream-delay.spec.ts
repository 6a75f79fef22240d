import { delayOf } from './stream-delay.schedule';

describe('delayOf', () => {
  it('reads delayMs (0 or absent = at once, rounded up to whole ms) and at', () => {
    expect(delayOf({})).toBeUndefined();
    expect(delayOf({ delayMs: 0 })).toBeUndefined();
    expect(delayOf({ delayMs: 1.2 })).toEqual({ delayMs: 2 });
    expect(delayOf({ at: new Date(5_000) })).toEqual({ atMs: 5_000 });
  });

  it('refuses a negative or non-finite delayMs, an invalid at, and both', () => {
    for (const delayMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => delayOf({ delayMs })).toThrow(RangeError);
    }
    expect(() => delayOf({ at: new Date(Number.NaN) })).toThrow(RangeError);
    expect(() => delayOf({ delayMs: 1, at: new Date() })).toThrow('give delayMs or at, not both');
  });
});
