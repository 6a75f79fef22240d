import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/**
 * Lets a request through when its session holds a logged-in user; 401 otherwise. The session was read from Redis
 * for this very request (a Redis outage is a 503 from the session middleware before this guard runs), so a revoked
 * session is refused at once on every instance. On a route the module's `exclude` option leaves out, no session is
 * read: the guard answers 401.
 */
@Injectable()
export class SessionAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (typeof req.isAuthenticated === 'function' && req.isAuthenticated() && req.user) return true;
    throw new UnauthorizedException('Not authenticated');
  }
}
