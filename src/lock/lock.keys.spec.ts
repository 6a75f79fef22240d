import { LockOptionsError } from './lock.errors';
import { LockKeys, checkResources, checkSameSlot, hashTagOf, renderTemplate, taggedResource } from './lock.keys';

describe('lock keys', () => {
  it('hash-tags a resource whole unless it carries its own tag', () => {
    expect(taggedResource('inventory:abc')).toBe('{inventory:abc}');
    expect(taggedResource('{order:42}:a')).toBe('{order:42}:a');
    expect(taggedResource('a{}b')).toBe('{a{}b}');
    expect(hashTagOf('{order:42}:a')).toBe('order:42');
    expect(hashTagOf('plain')).toBeUndefined();
  });

  it('builds every key of the feature under its prefix, hash-tagged by resource', () => {
    const keys = new LockKeys('app:lock:');
    expect(keys.lock('inventory:1')).toBe('app:lock:{inventory:1}');
    expect(keys.fence('inventory:1')).toBe('app:lock:fence:{inventory:1}');
    expect(keys.semaphore('partner')).toBe('app:lock:sem:{partner}');
    expect(keys.fence('{order:42}:a')).toBe('app:lock:fence:{order:42}:a');
  });

  it('requires one shared tag for a multi-resource lock on Cluster', () => {
    expect(() => checkSameSlot(['{o:1}:a', '{o:1}:b'])).not.toThrow();
    expect(() => checkSameSlot(['a', 'b'])).toThrow(LockOptionsError);
  });

  it('renders @WithLock templates from arguments and paths', () => {
    expect(renderTemplate('inventory:{0}', ['SKU-1'])).toBe('inventory:SKU-1');
    expect(renderTemplate('order:{0.id}:{1}', [{ id: 7 }, 'ann'])).toBe('order:7:ann');
    expect(renderTemplate('u:{0.a.b}', [{ a: { b: 3 } }])).toBe('u:3');
    expect(() => renderTemplate('inventory:{0}', [])).toThrow(/\{0\} is undefined/);
    expect(() => renderTemplate('inventory:{0}', [''])).toThrow(/is empty/);
    expect(() => renderTemplate('inventory:{0}', [{}])).toThrow(/an object/);
  });

  it('checks resources', () => {
    expect(checkResources('a')).toEqual(['a']);
    expect(() => checkResources([])).toThrow(LockOptionsError);
    expect(() => checkResources(['a', 'a'])).toThrow(/listed twice/);
    expect(() => checkResources('x'.repeat(513))).toThrow(/at most 512/);
    expect(() => checkResources('sem:x')).toThrow(/reserved/);
    expect(() => checkResources(['a', 7 as unknown as string])).toThrow(LockOptionsError);
  });
});
