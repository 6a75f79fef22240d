import type { INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import type { AppConfig } from '../config/app.config';
import { jsonOnlyWrites } from './json-only-writes';

/** Parses CORS_ORIGINS: undefined (no CORS), `true` for `*`, or the list of allowed origins. */
export function parseCorsOrigins(value: string | undefined): string[] | true | undefined {
  if (!value || !value.trim()) return undefined;
  if (value.trim() === '*') return true;
  return value
    .split(',')
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter(Boolean);
}

/**
 * HTTP hardening of the reference service, applied by configureApp before any route:
 * helmet's security headers (a looser Content-Security-Policy under /docs only, for Swagger UI),
 * JSON-only bodies on state-changing requests (415 otherwise: the CSRF stance, see json-only-writes.ts), a body size
 * limit (HTTP_BODY_LIMIT_KB → 413 JSON), CORS from CORS_ORIGINS (off when unset),
 * and Express `trust proxy` from TRUST_PROXY (so the rate limit sees client IPs behind a proxy).
 */
export function applyHttpHardening(app: INestApplication): void {
  const config = app.get(ConfigService<AppConfig, true>);
  const express = app as NestExpressApplication;

  const strict = helmet();
  const docs = helmet({
    contentSecurityPolicy: {
      directives: {
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'https:'],
      },
    },
  });
  app.use((req: Request, res: Response, next: NextFunction) =>
    (req.path === '/docs' || req.path.startsWith('/docs/') || req.path.startsWith('/docs-') ? docs : strict)(
      req,
      res,
      next,
    ),
  );

  const limitKb = config.get('HTTP_BODY_LIMIT_KB', { infer: true });
  const limit = `${limitKb}kb`;
  app.use(jsonOnlyWrites()); // before any parser: a form body is refused unread
  express.useBodyParser('json', { limit });
  express.useBodyParser('urlencoded', { limit, extended: true }); // else Nest adds one without the limit
  // Body parser errors never reach a controller: answer the size limit here with a message that says it.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const type = (err as { type?: string } | null)?.type;
    if (type !== 'entity.too.large' || res.headersSent) return next(err);
    res.status(413).json({ statusCode: 413, message: `request body larger than ${limitKb} kB` });
  });

  const origins = parseCorsOrigins(config.get('CORS_ORIGINS', { infer: true }));
  if (origins) {
    app.enableCors({
      origin: origins,
      // Cookies (the session) only for a list of known origins, never for `*`.
      credentials: origins !== true,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      maxAge: 600,
    });
  }

  const trustProxy = config.get('TRUST_PROXY', { infer: true });
  if (trustProxy) {
    express.set(
      'trust proxy',
      /^\d+$/.test(trustProxy) ? Number(trustProxy) : trustProxy === 'true' ? true : trustProxy,
    );
  }
}
