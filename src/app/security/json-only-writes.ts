import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Methods that change state: their bodies must be JSON (see {@link jsonOnlyWrites}). */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `application/json` or `application/<anything>+json`, with or without parameters. */
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Message of the 415 answered to a state-changing request whose body is not JSON. */
export const JSON_ONLY_MESSAGE =
  'state-changing requests take application/json bodies only (forms and text/plain are refused: CSRF protection)';

/**
 * The CSRF stance of the reference service, with the session cookie's `SameSite=Lax`: a POST, PUT, PATCH or DELETE
 * that carries a body (or a `Content-Type`) must say `application/json`, else 415. A cross-site page can only send
 * the "simple" types without a CORS preflight (`application/x-www-form-urlencoded`, `multipart/form-data`,
 * `text/plain`), and a JSON request from another origin needs a preflight that CORS_ORIGINS decides; so a forged
 * form post never reaches a route, even from a same-site origin (a sibling subdomain), where `SameSite` does not
 * apply. Requests without a body (logout, DELETE) pass: browsers do not send the cookie on cross-site POSTs
 * (`SameSite=Lax`), and a cross-origin DELETE needs a preflight.
 */
export function jsonOnlyWrites(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!STATE_CHANGING.has(req.method)) return next();
    const type = req.headers['content-type'];
    const length = Number(req.headers['content-length'] ?? 0);
    const hasBody = type !== undefined || length > 0 || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody || (type !== undefined && JSON_TYPE.test(type))) return next();
    res.status(415).json({ statusCode: 415, message: JSON_ONLY_MESSAGE });
  };
}
