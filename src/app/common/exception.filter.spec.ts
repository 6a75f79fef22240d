import type { ArgumentsHost } from '@nestjs/common';
import {
  InvalidCredentialsError,
  InvalidLoginBodyError,
  LoginThrottledError,
  RateLimitExceededError,
  RedisTimeoutError,
  SessionLimitError,
} from '../../index';
import { AppExceptionFilter } from './exception.filter';

/** What the filter answered for one error. */
function answer(err: unknown) {
  const out = { status: 0, headers: {} as Record<string, string>, body: undefined as unknown };
  const res = {
    headersSent: false,
    setHeader: (k: string, v: string) => (out.headers[k] = v),
    status(code: number) {
      out.status = code;
      return this;
    },
    json: (body: unknown) => (out.body = body),
  };
  const host = { getType: () => 'http', switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
  new AppExceptionFilter().catch(err, host);
  return out;
}

describe('AppExceptionFilter: the session errors of a library call made outside its guards', () => {
  it('answers a bad login body 400 with one message per problem', () => {
    expect(answer(new InvalidLoginBodyError(['username must be a string']))).toEqual({
      status: 400,
      headers: {},
      body: { statusCode: 400, message: ['username must be a string'] },
    });
  });

  it('answers wrong credentials 401, throttling 429 + Retry-After, an unreachable Redis 503', () => {
    expect(answer(new InvalidCredentialsError())).toMatchObject({
      status: 401,
      body: { message: 'Invalid username or password' },
    });
    expect(answer(new LoginThrottledError(2_500))).toMatchObject({ status: 429, headers: { 'Retry-After': '3' } });
    expect(answer(new RedisTimeoutError(100))).toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
  });

  it('answers a login refused at the per-user session limit 409 with a message that says what to do', () => {
    expect(answer(new SessionLimitError(2))).toMatchObject({
      status: 409,
      body: { statusCode: 409, message: expect.stringMatching(/limited to 2 at once; log out of another session/) },
    });
  });

  it('answers a refused rate limit 429 + Retry-After, with the limit named', () => {
    const decision = {
      allowed: false,
      policy: 'exports',
      limit: 5,
      windowMs: 60_000,
      remaining: 0,
      resetMs: 40_000,
      retryAfterMs: 11_200,
      failedOpen: false,
    };
    expect(answer(new RateLimitExceededError(decision))).toMatchObject({
      status: 429,
      headers: { 'Retry-After': '12' },
      body: { message: 'Rate limit "exports" exceeded (5 per 60 s); retry in 12 s' },
    });
  });
});

describe('AppExceptionFilter: errors of message handlers', () => {
  it('rethrows them as they are (the messaging module retries, dead-letters or logs them)', () => {
    const err = new Error('handler failed');
    const host = { getType: () => 'redis-message' } as unknown as ArgumentsHost;
    expect(() => new AppExceptionFilter().catch(err, host)).toThrow(err);
  });
});
