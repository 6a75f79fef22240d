import { decodeCacheEntry, entryTags } from './cache.entry';
import { CacheSerializationError } from './cache.errors';
import { decodeCacheValue, encodeCacheValue, NOT_JSON } from './cache-value.codec';

describe('cache value encoding', () => {
  it('stores plain JSON once and reads it back', () => {
    const text = encodeCacheValue('k', { a: 1, s: 'é', list: [null, true] });
    expect(text).toBe('{"a":1,"s":"é","list":[null,true]}');
    expect(decodeCacheValue(text)).toEqual({ a: 1, s: 'é', list: [null, true] });
    expect(decodeCacheValue('null')).toBeNull();
  });

  it.each([
    ['a BigInt', 10n, /Cannot cache the value of "k" as JSON: .*BigInt/],
    ['undefined', undefined, /a value of type undefined has no JSON form/],
    ['a function', () => 1, /a value of type function has no JSON form/],
  ])('%s is a CacheSerializationError naming the key', (_name, value, message) => {
    expect(() => encodeCacheValue('k', value)).toThrow(CacheSerializationError);
    expect(() => encodeCacheValue('k', value)).toThrow(message);
  });

  it('a circular value is a CacheSerializationError with the JSON error as its cause', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    try {
      encodeCacheValue('c', circular);
    } catch (err) {
      expect(err).toBeInstanceOf(CacheSerializationError);
      expect((err as Error).cause).toBeInstanceOf(TypeError);
    }
    expect.assertions(2);
  });

  it('a value holding Buffers comes back with Buffers (B-marked text); a plain look-alike stays plain', () => {
    const value = { buff: Buffer.from('buzz'), list: [Buffer.from([0, 255])], n: 1 };
    const text = encodeCacheValue('k', value);
    expect(text).toBe('B{"buff":{"$buffer":"YnV6eg=="},"list":[{"$buffer":"AP8="}],"n":1}');
    expect(decodeCacheValue(text)).toEqual(value);
    expect(Buffer.isBuffer((decodeCacheValue(text) as typeof value).buff)).toBe(true);
    const top = decodeCacheValue(encodeCacheValue('k', Buffer.from('bar')));
    expect(Buffer.isBuffer(top) && top.toString()).toBe('bar');
    const lookAlike = { type: 'Buffer', data: [1, 2] };
    expect(encodeCacheValue('k', lookAlike)).toBe('{"type":"Buffer","data":[1,2]}');
    expect(decodeCacheValue(encodeCacheValue('k', { $buffer: 'YQ==' }))).toEqual({ $buffer: 'YQ==' }); // no Buffer: plain
  });

  it('refuses a value holding Buffers that has a $buffer property of its own (it would come back changed)', () => {
    expect(() => encodeCacheValue('k', { b: Buffer.from('x'), inner: { $buffer: 'YQ==' } })).toThrow(
      CacheSerializationError,
    );
  });

  it('text that is not JSON is NOT_JSON, not an exception', () => {
    expect(decodeCacheValue('{oops')).toBe(NOT_JSON);
  });
});

describe('CacheService entries', () => {
  it('decodes an entry, and refuses what is not one', () => {
    expect(decodeCacheEntry('{"v":1,"f":5,"t":{"a":"1","b":"2"}}')).toEqual({ v: 1, f: 5, t: { a: '1', b: '2' } });
    expect(decodeCacheEntry('{"f":5,"n":1}')).toEqual({ f: 5, n: 1 });
    expect(decodeCacheEntry('{"v":1}')).toBeUndefined();
    expect(decodeCacheEntry('"text"')).toBeUndefined();
    expect(decodeCacheEntry('null')).toBeUndefined();
    expect(decodeCacheEntry('not json')).toBeUndefined();
  });

  it('lists the tags an entry carries', () => {
    expect(entryTags({ f: 1, t: { a: '1', b: '2' } })).toEqual(['a', 'b']);
    expect(entryTags({ f: 1 })).toEqual([]);
  });
});
