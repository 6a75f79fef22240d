import {
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import type { PublicUser } from '../users/user.entity';
import { UsersService } from '../users/users.service';

/** Injection token of the usernames ADMIN_USERS lists. */
export const ADMIN_USERNAMES = 'app:admin-usernames';

/**
 * The reference service's guard of the operations page: anonymous → 401, a logged-in user without the `admin` role →
 * 403. The role is the `users.role` column, read per request (a demotion applies at once); a user listed in
 * ADMIN_USERS is given the role on first visit (and at startup).
 */
@Injectable()
export class AdminRoleGuard implements CanActivate {
  constructor(
    private readonly users: UsersService,
    @Inject(ADMIN_USERNAMES) private readonly adminUsernames: readonly string[],
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request & { user?: PublicUser }>();
    const user = typeof req.isAuthenticated === 'function' && req.isAuthenticated() ? req.user : undefined;
    if (!user) throw new UnauthorizedException('Not authenticated');
    let role = await this.users.roleOf(user.id);
    if (role !== 'admin' && this.adminUsernames.includes(user.username)) {
      await this.users.grantAdmin([user.username]);
      role = 'admin';
    }
    if (role !== 'admin') throw new ForbiddenException('The operations page needs the admin role');
    return true;
  }
}
