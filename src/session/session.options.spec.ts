import { RequestMethod } from '@nestjs/common';
import { RedisConfigError } from '../redis/redis.errors';
import { resolveSessionOptions, type SessionModuleOptions } from './session.options';

const SECRET = 'a-secret-of-sixteen-chars';
const resolve = (o: Partial<SessionModuleOptions>) => resolveSessionOptions({ secrets: [SECRET], ...o });

describe('resolveSessionOptions: limit, absolute lifetime, routes', () => {
  it('defaults to no limit, no absolute lifetime, every route', () => {
    expect(resolve({})).toMatchObject({
      maxSessionsPerUser: undefined,
      sessionLimitPolicy: 'evict-oldest',
      absoluteTimeoutMs: undefined,
      forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
      exclude: [],
    });
  });

  it('the failed-login throttle fails closed within 250 ms by default; both can be changed', () => {
    expect(resolve({})).toMatchObject({ loginMaxAttempts: 5, loginWindowMs: 900_000, loginFailOpen: false });
    expect(resolve({}).loginTimeoutMs).toBe(250);
    expect(resolve({ loginFailOpen: true, loginTimeoutMs: 100 })).toMatchObject({
      loginFailOpen: true,
      loginTimeoutMs: 100,
    });
  });

  it('keeps valid values', () => {
    const exclude = ['health', { path: 'docs/{*path}', method: RequestMethod.GET }];
    expect(
      resolve({ maxSessionsPerUser: 2, sessionLimitPolicy: 'refuse-new', absoluteTimeoutMs: 3_600_000, exclude }),
    ).toMatchObject({ maxSessionsPerUser: 2, sessionLimitPolicy: 'refuse-new', absoluteTimeoutMs: 3_600_000, exclude });
  });

  it.each([
    ['session.maxSessionsPerUser', { maxSessionsPerUser: 0 }],
    ['session.maxSessionsPerUser', { maxSessionsPerUser: 1.5 }],
    ['session.sessionLimitPolicy', { sessionLimitPolicy: 'evict-newest' }],
    ['session.absoluteTimeoutMs', { absoluteTimeoutMs: 0 }],
    ['session.loginFailOpen', { loginFailOpen: 'yes' }],
    ['session.loginTimeoutMs', { loginTimeoutMs: 0 }],
    ['session.loginMaxAttempts', { loginMaxAttempts: 0 }],
    ['session.forRoutes', { forRoutes: 'health' }],
    ['session.exclude[1]', { exclude: ['health', ''] }],
    ['session.exclude[0].method', { exclude: [{ path: 'health', method: 'GET' }] }],
    ['session.exclude[0].path', { exclude: [{ method: RequestMethod.GET }] }],
  ])('refuses %s with a RedisConfigError naming it', (path, options) => {
    const attempt = () => resolve(options as Partial<SessionModuleOptions>);
    expect(attempt).toThrow(RedisConfigError);
    expect(attempt).toThrow(path);
  });
});
