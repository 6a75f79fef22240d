import { Injectable, type CanActivate } from '@nestjs/common';
import type { Request } from 'express';
import { RedisConfigError } from '../redis/redis.errors';
import { parseInfo } from './admin-features.service';
import { matchesFilter } from './admin-streams.service';
import { adminControllers } from './admin.module-definition';
import { defaultWho, resolveAdminOptions } from './admin.options';

@Injectable()
class Allow implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

describe('resolveAdminOptions', () => {
  it('fills the defaults around a guard', () => {
    expect(resolveAdminOptions({ guard: Allow })).toMatchObject({
      guard: Allow,
      readOnly: false,
      clientName: 'default',
      scanCount: 500,
      maxListed: 500,
      maxPerRequest: 1_000,
      redrivePerSecond: 200,
      commandTimeoutMs: 2_000,
    });
  });

  it('refuses to go without a guard unless allowUnguarded', () => {
    expect(() => resolveAdminOptions({})).toThrow(RedisConfigError);
    expect(() => resolveAdminOptions({})).toThrow(/admin\.guard.*is required/);
    expect(resolveAdminOptions({ allowUnguarded: true }).guard).toBeUndefined();
  });

  it('names the bad option', () => {
    expect(() => resolveAdminOptions({ guard: 'x' as never })).toThrow(/admin\.guard.*guard class/);
    expect(() => resolveAdminOptions({ guard: Allow, scanCount: 0 })).toThrow(/admin\.scanCount/);
    expect(() => resolveAdminOptions({ guard: Allow, who: 'me' as never })).toThrow(/admin\.who/);
    expect(() => resolveAdminOptions({ guard: Allow, readOnly: 'yes' as never })).toThrow(/admin\.readOnly/);
  });
});

describe('defaultWho', () => {
  it('says the username, else the user id, else the address', () => {
    expect(defaultWho({ user: { username: 'ops', id: 1 } } as unknown as Request)).toBe('ops');
    expect(defaultWho({ user: { id: 7 } } as unknown as Request)).toBe('user 7');
    expect(defaultWho({ ip: '10.0.0.1' } as unknown as Request)).toBe('anonymous (10.0.0.1)');
  });
});

describe('matchesFilter', () => {
  const letter = { error: 'timeout calling billing', group: 'billing' };
  it('needs every field given to match', () => {
    expect(matchesFilter(letter, {})).toBe(true);
    expect(matchesFilter(letter, { error: 'timeout' })).toBe(true);
    expect(matchesFilter(letter, { error: 'timeout', group: 'mail' })).toBe(false);
    expect(matchesFilter(letter, { group: 'billing' })).toBe(true);
  });
});

describe('parseInfo', () => {
  it('reads the INFO fields, skipping section titles', () => {
    expect(
      parseInfo('# Server\r\nredis_version:7.2.4\r\nrole:master\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=0'),
    ).toEqual({
      redis_version: '7.2.4',
      role: 'master',
      db0: 'keys=3,expires=0',
    });
  });
});

describe('adminControllers', () => {
  it('mounts under a clean path and refuses one that is not a URL path', () => {
    expect(adminControllers('/ops/admin/')).toHaveLength(2);
    expect(() => adminControllers('a b')).toThrow(/URL path/);
  });
});
