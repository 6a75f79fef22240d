import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { RedisUnavailableError } from '../redis/redis.errors';
import { AdminBusyError, AdminFeatureAbsentError, AdminNotFoundError } from './admin.errors';

/** The API's answer to its own errors: 404 (not there, feature absent), 409 (busy), 503 (Redis unavailable). */
@Catch(AdminNotFoundError, AdminFeatureAbsentError, AdminBusyError, RedisUnavailableError)
export class AdminErrorFilter implements ExceptionFilter {
  catch(err: Error, host: ArgumentsHost): void {
    const status = err instanceof AdminBusyError ? 409 : err instanceof RedisUnavailableError ? 503 : 404;
    host.switchToHttp().getResponse<Response>().status(status).json({ statusCode: status, message: err.message });
  }
}
