import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LoginBodyValidator } from './login-body.validator';
import { SessionAuthService } from './session-auth.service';
import { toSessionHttpError } from './session-http.errors';

/**
 * Guard of a login route, the HTTP edge of the login: validates the body `{username, password}` (400 listing the
 * problems), checks the credentials with the passport-local strategy and the login throttle (401 / 429 with
 * `Retry-After`), regenerates the session id and records the session (503 while Redis cannot be reached). The
 * handler then finds the user with `@CurrentUser()`.
 */
@Injectable()
export class LocalLoginGuard implements CanActivate {
  constructor(
    private readonly auth: SessionAuthService,
    private readonly body: LoginBodyValidator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    try {
      await this.body.validate(req.body);
      await this.auth.login(req, res);
    } catch (err) {
      throw toSessionHttpError(err, res);
    }
    return true;
  }
}
