import { HttpException } from '@nestjs/common';
import type { Response } from 'express';
import { RedisTimeoutError, RedisUnavailableError } from '../redis/redis.errors';
import {
  InvalidCredentialsError,
  InvalidLoginBodyError,
  LoginThrottledError,
  SessionLimitError,
} from './session.errors';
import { toSessionHttpError } from './session-http.errors';

function response(headersSent = false) {
  const headers: Record<string, string> = {};
  const res = { headersSent, setHeader: (k: string, v: string) => (headers[k] = v) } as unknown as Response;
  return { res, headers };
}

const answer = (err: unknown) => {
  expect(err).toBeInstanceOf(HttpException);
  const e = err as HttpException;
  return { status: e.getStatus(), body: e.getResponse() };
};

describe('toSessionHttpError', () => {
  it('maps a refused login of a user at the session limit to 409 with the limit in the message', () => {
    expect(answer(toSessionHttpError(new SessionLimitError(2)))).toMatchObject({
      status: 409,
      body: { message: expect.stringMatching(/limited to 2 at once; log out of another session/) },
    });
  });

  it('maps the session errors to 400, 401 and 429 + Retry-After', () => {
    expect(answer(toSessionHttpError(new InvalidLoginBodyError(['username must be a string'])))).toMatchObject({
      status: 400,
      body: { message: ['username must be a string'] },
    });
    expect(answer(toSessionHttpError(new InvalidCredentialsError()))).toMatchObject({
      status: 401,
      body: { message: 'Invalid username or password' },
    });
    const { res, headers } = response();
    expect(answer(toSessionHttpError(new LoginThrottledError(1_200), res))).toMatchObject({
      status: 429,
      body: 'Too many failed login attempts; retry in 2 s',
    });
    expect(headers).toEqual({ 'Retry-After': '2' });
  });

  it('maps an unreachable Redis (a timeout included) to 503 + Retry-After: 1', () => {
    for (const err of [new RedisUnavailableError('down'), new RedisTimeoutError(100)]) {
      const { res, headers } = response();
      expect(answer(toSessionHttpError(err, res)).status).toBe(503);
      expect(headers).toEqual({ 'Retry-After': '1' });
    }
    const late = response(true);
    toSessionHttpError(new RedisUnavailableError('down'), late.res);
    expect(late.headers).toEqual({}); // the answer has started: no header any more
  });

  it('returns any other error unchanged', () => {
    const err = new Error('database down');
    expect(toSessionHttpError(err)).toBe(err);
  });
});
