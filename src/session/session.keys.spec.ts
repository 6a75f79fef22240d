import { SessionKeys } from './session.keys';

describe('SessionKeys', () => {
  const keys = new SessionKeys('nrk:sess:');

  it('builds every key under the feature prefix, the index keys in one hash-tag slot', () => {
    expect(keys.session('abc_-9')).toBe('nrk:sess:abc_-9');
    expect(keys.userIndex('42')).toBe('nrk:sess:{user:42}:index');
    expect(keys.userMeta('42')).toBe('nrk:sess:{user:42}:meta');
    expect(keys.userCreated('42')).toBe('nrk:sess:{user:42}:created');
    expect(keys.loginAttempts('Demo', '::1')).toMatch(/^nrk:sess:\{login:[0-9a-f]{32}\}$/);
    expect(keys.loginAttempts('Demo', '::1')).toBe(keys.loginAttempts('demo', '::1')); // case-insensitive
    expect(keys.loginAttempts('demo', '::2')).not.toBe(keys.loginAttempts('demo', '::1'));
  });

  it('tells session keys from the feature’s other keys', () => {
    expect(keys.scanPattern).toBe('nrk:sess:*');
    expect(keys.isSession(keys.session('abc'))).toBe(true);
    expect(keys.isSession(keys.userIndex('1'))).toBe(false);
    expect(keys.isSession(keys.userCreated('1'))).toBe(false);
    expect(keys.isSession(keys.loginAttempts('a', 'b'))).toBe(false);
    expect(keys.isSession('nrk:cache:x')).toBe(false);
  });
});
