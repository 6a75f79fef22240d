import type { NextFunction, Request, Response } from 'express';
import { JSON_ONLY_MESSAGE, jsonOnlyWrites } from './json-only-writes';

/** The status the middleware answers for a request (0: passed on). */
function statusOf(method: string, headers: Record<string, string>): number {
  let status = 0;
  const res = {
    status(code: number) {
      status = code;
      return this;
    },
    json(body: { message: string }) {
      expect(body.message).toBe(JSON_ONLY_MESSAGE);
      return this;
    },
  } as unknown as Response;
  const next: NextFunction = () => undefined;
  jsonOnlyWrites()({ method, headers } as unknown as Request, res, next);
  return status;
}

describe('jsonOnlyWrites', () => {
  it.each([
    ['POST', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '3' }],
    ['POST', { 'content-type': 'text/plain', 'content-length': '3' }],
    ['POST', { 'content-type': 'text/plain' }],
    ['PUT', { 'content-type': 'multipart/form-data; boundary=x', 'content-length': '10' }],
    ['PATCH', { 'content-length': '10' }],
    ['DELETE', { 'transfer-encoding': 'chunked' }],
    ['POST', { 'content-type': 'application/jsonp', 'content-length': '3' }],
  ])('refuses %s with %j: 415', (method, headers) => {
    expect(statusOf(method, headers)).toBe(415);
  });

  it.each([
    ['POST', { 'content-type': 'application/json', 'content-length': '2' }],
    ['POST', { 'content-type': 'application/json; charset=utf-8', 'content-length': '2' }],
    ['PATCH', { 'content-type': 'application/merge-patch+json', 'content-length': '2' }],
    ['POST', {}],
    ['DELETE', { 'content-length': '0' }],
    ['GET', { 'content-type': 'text/plain', 'content-length': '3' }],
  ])('lets %s with %j through', (method, headers) => {
    expect(statusOf(method, headers)).toBe(0);
  });
});
