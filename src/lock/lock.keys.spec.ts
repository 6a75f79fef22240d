import { RedisConfigError } from '../redis';
import { LockOptionsError } from './lock.errors';
import { checkResources, checkSameSlot, hashTagOf, renderTemplate, taggedResource } from './lock.keys';
import { resolveLockOptions } from './lock.options';

describe('lock keys', () => {
  it('hash-tags a resource whole unless it carries its own tag', () => {
    expect(taggedResource('inventory:abc')).toBe('{inventory:abc}');
    expect(taggedResource('{order:42}:a')).toBe('{order:42}:a');
    expect(taggedResource('a{}b')).toBe('{a{}b}');
    expect(hashTagOf('{order:42}:a')).toBe('order:42');
    expect(hashTagOf('plain')).toBeUndefined();
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
  });

  it('validates module options, naming the option', () => {
    expect(resolveLockOptions({}).defaultTtlMs).toBe(10_000);
    const nodes = resolveLockOptions({ nodes: ['redis://a:1', 'redis://b:2', 'redis://c:3'] }).nodes;
    expect(nodes.every((n) => n.failFast && n.commandTimeoutMs === 500)).toBe(true);
    const bad = (o: object) => {
      try {
        resolveLockOptions(o);
      } catch (err) {
        return (err as RedisConfigError).option;
      }
      return undefined;
    };
    expect(bad({ defaultTtlMs: 1.5 })).toBe('lock.defaultTtlMs');
    expect(bad({ nodes: [{ nodes: [{ host: 'a', port: 1 }] }] })).toBe('lock.nodes[0]');
    expect(bad({ nodes: ['redis://a:1', 'redis://b:1'] })).toBe('lock.nodes');
    expect(bad({ fenceTtlMs: -1 })).toBe('lock.fenceTtlMs');
  });
});
