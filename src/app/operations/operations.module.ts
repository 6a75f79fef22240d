import { Module, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AdminModule } from '../../index';
import type { AppConfig } from '../config/app.config';
import { UsersModule } from '../users/users.module';
import { UsersService } from '../users/users.service';
import { ADMIN_USERNAMES, AdminRoleGuard } from './admin-role.guard';

/** Parses ADMIN_USERS into usernames. */
export function parseAdminUsers(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
}

/** The usernames ADMIN_USERS lists, as a provider. */
const adminUsernames = {
  provide: ADMIN_USERNAMES,
  inject: [ConfigService],
  useFactory: (config: ConfigService<AppConfig, true>) => parseAdminUsers(config.get('ADMIN_USERS', { infer: true })),
};

/** Provides the admin role guard (with the users and ADMIN_USERS) so that AdminModule can take it from the app. */
@Module({
  imports: [UsersModule],
  providers: [adminUsernames, AdminRoleGuard],
  exports: [AdminRoleGuard, ADMIN_USERNAMES],
})
class AdminAccessModule implements OnApplicationBootstrap {
  constructor(
    private readonly users: UsersService,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  /** Gives the listed users the role at startup (users created later get it on their first visit). */
  async onApplicationBootstrap(): Promise<void> {
    await this.users.grantAdmin(parseAdminUsers(this.config.get('ADMIN_USERS', { infer: true })));
  }
}

/**
 * The operations page of the reference service at /admin: the library's AdminModule behind the admin role
 * (AdminRoleGuard), read-only with ADMIN_READ_ONLY; actions logged with the username.
 */
export const operationsModules = () => [
  AdminAccessModule,
  AdminModule.forRootAsync({
    path: 'admin',
    imports: [AdminAccessModule],
    inject: [ConfigService],
    useFactory: (config: ConfigService<AppConfig, true>) => ({
      guard: AdminRoleGuard,
      readOnly: String(config.get('ADMIN_READ_ONLY', { infer: true })) === 'true',
    }),
  }),
];
