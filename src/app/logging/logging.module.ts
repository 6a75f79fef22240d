import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Module, type INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule, Logger as PinoNestLogger, type Params } from 'nestjs-pino';
import type { AppConfig } from '../config/app.config';

/** Header carrying the request id in and out (a valid incoming one is kept, otherwise a UUID is made). */
export const REQUEST_ID_HEADER = 'x-request-id';

/** An incoming request id is kept only when short and plain (no log injection through it). */
const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Paths of secrets in log records, replaced by `[redacted]`. */
export const REDACTED_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'password',
  '*.password',
  '*.*.password',
  'currentPassword',
  '*.currentPassword',
  'newPassword',
  '*.newPassword',
  'passwordHash',
  '*.passwordHash',
  'sessionSecret',
  '*.sessionSecret',
];

/** The request id of a request: its valid `X-Request-Id`, or a new UUID; echoed in the response header. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  const id = value && VALID_REQUEST_ID.test(value) ? value : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/** nestjs-pino options of the reference service: JSON lines, request id on every line, secrets redacted. */
export function loggingParams(config: ConfigService<AppConfig, true>): Params {
  const env = config.get('NODE_ENV', { infer: true });
  const level = config.get('LOG_LEVEL', { infer: true }) ?? (env === 'test' ? 'silent' : 'info');
  return {
    pinoHttp: {
      level,
      genReqId: requestId,
      // Lines logged while handling a request carry `reqId` only, not the whole request.
      quietReqLogger: true,
      customAttributeKeys: { reqId: 'reqId' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Probes and scrapes are frequent and say nothing new: not logged unless they fail.
      autoLogging: { ignore: (req) => /^\/(health|metrics)(\/|$|\?)/.test(req.url ?? '') },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      serializers: {
        req: (req: {
          id: unknown;
          method: string;
          url: string;
          headers: Record<string, unknown>;
          remoteAddress?: string;
        }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
          headers: req.headers,
          remoteAddress: req.remoteAddress,
        }),
        // The status is what matters; response headers (CSP, HSTS...) repeat on every line.
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  };
}

/**
 * Structured logs (nestjs-pino): one JSON object per line on stdout, `reqId` on every line logged while
 * handling a request (from `X-Request-Id` or a new UUID, echoed in the response), cookies, authorization
 * and passwords redacted, level from LOG_LEVEL (default `info`, `silent` under NODE_ENV=test).
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => loggingParams(config),
    }),
  ],
})
export class LoggingModule {}

/** Routes Nest's own logger (and every `new Logger(context)`) through pino, when LoggingModule is imported. */
export function useStructuredLogs(app: INestApplication): void {
  let logger: PinoNestLogger;
  try {
    logger = app.get(PinoNestLogger, { strict: false });
  } catch {
    return; // LoggingModule not imported: keep Nest's console logger
  }
  app.useLogger(logger);
  app.flushLogs();
}
