import { RedisConfigError } from '../redis';
import { LockOptionsError } from './lock.errors';
import { checkLockCall, resolveLockCall, resolveLockOptions, type LockModuleOptions } from './lock.options';

/** The option a bad value is reported under, or undefined when accepted. */
function optionOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof RedisConfigError || err instanceof LockOptionsError) return err.option;
    throw err;
  }
  return undefined;
}

describe('lock options', () => {
  it('fills module defaults and normalises independent nodes', () => {
    const resolved = resolveLockOptions({});
    expect(resolved).toMatchObject({
      clientName: 'default',
      defaultTtlMs: 10_000,
      defaultWaitMs: 5_000,
      fencing: true,
    });
    expect(resolveLockOptions({ clientName: 'locks' }).clientName).toBe('locks');
    const nodes = resolveLockOptions({ nodes: ['redis://a:1', 'redis://b:2', 'redis://c:3'] }).nodes;
    expect(nodes.every((n) => n.failFast && n.commandTimeoutMs === 500)).toBe(true);
  });

  it('refuses bad module options with a RedisConfigError naming the option', () => {
    const bad = (o: object) => optionOf(() => resolveLockOptions(o as LockModuleOptions));
    expect(bad({ defaultTtlMs: 1.5 })).toBe('lock.defaultTtlMs');
    expect(bad({ defaultTtlMs: 0 })).toBe('lock.defaultTtlMs');
    expect(bad({ nodeCommandTimeoutMs: 0 })).toBe('lock.nodeCommandTimeoutMs');
    expect(bad({ fenceTtlMs: -1 })).toBe('lock.fenceTtlMs');
    expect(bad({ driftFactor: 0.5 })).toBe('lock.driftFactor');
    expect(bad({ driftFactor: -0.1 })).toBe('lock.driftFactor');
    expect(bad({ fencing: 'yes' })).toBe('lock.fencing');
    expect(bad({ clientName: '' })).toBe('lock.clientName');
    expect(bad({ nodes: [{ nodes: [{ host: 'a', port: 1 }] }] })).toBe('lock.nodes[0]');
    expect(bad({ nodes: ['redis://a:1', 'redis://b:1'] })).toBe('lock.nodes');
    expect(bad({ nodes: 'redis://a:1' })).toBe('lock.nodes');
    expect(() => resolveLockOptions(null as unknown as LockModuleOptions)).toThrow(RedisConfigError);
  });

  it('points the old `client` option to `clientName` instead of ignoring it', () => {
    expect(() => resolveLockOptions({ client: 'locks' } as LockModuleOptions)).toThrow(/now called `clientName`/);
  });

  it('checks call options with LockOptionsError naming the argument, with the messages callers see', () => {
    const defaults = resolveLockOptions({});
    const bad = (o: object) => optionOf(() => resolveLockCall(o, defaults));
    expect(bad({ ttlMs: 0 })).toBe('ttlMs');
    expect(() => resolveLockCall({ ttlMs: 0 }, defaults)).toThrow(/ttlMs.*positive integer/);
    expect(() => resolveLockCall({ ttlMs: 10 }, defaults)).toThrow(/at least 30 ms/);
    expect(bad({ ttlMs: '100' })).toBe('ttlMs');
    expect(bad({ waitMs: 2.5 })).toBe('waitMs');
    expect(bad({ retryDelayMs: -1 })).toBe('retryDelayMs');
    expect(bad({ jitterMs: -1 })).toBe('jitterMs');
    expect(bad({ retryCount: -1 })).toBe('retryCount');
    expect(bad({ autoExtend: 'no' })).toBe('autoExtend');
    expect(optionOf(() => resolveLockCall(null as unknown as object, defaults))).toBe('options');
    expect(optionOf(() => resolveLockCall({}, resolveLockOptions({ defaultTtlMs: 20 })))).toBe('ttlMs');
    expect(optionOf(() => checkLockCall({ waitMs: -1 }, '@WithLock(A.b).'))).toBe('@WithLock(A.b).waitMs');
  });

  it('fills call defaults: waitMs from the module unless only retryCount bounds the wait', () => {
    const defaults = resolveLockOptions({ defaultTtlMs: 2_000, defaultWaitMs: 700 });
    expect(resolveLockCall({}, defaults)).toEqual({
      ttlMs: 2_000,
      retryCount: Number.POSITIVE_INFINITY,
      waitMs: 700,
      retryDelayMs: 100,
      jitterMs: 50,
      autoExtend: true,
    });
    expect(resolveLockCall({ retryCount: 3 }, defaults).waitMs).toBe(Number.POSITIVE_INFINITY);
  });
});
