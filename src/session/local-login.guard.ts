import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SessionAuthService } from './session-auth.service';

/**
 * Guard of a login route: validates `{username, password}` (400), checks them with the passport-local strategy and
 * the login throttle (401 / 429), regenerates the session id and records the session. The handler then finds the
 * user with `@CurrentUser()`.
 */
@Injectable()
export class LocalLoginGuard implements CanActivate {
  constructor(private readonly auth: SessionAuthService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    await this.auth.login(http.getRequest<Request>(), http.getResponse<Response>());
    return true;
  }
}
