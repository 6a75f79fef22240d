import { Module } from '@nestjs/common';
import { AdminAccessGuard } from './admin-access.guard';
import { AdminFeaturesService } from './admin-features.service';
import { AdminLocksService } from './admin-locks.service';
import { AdminStreamsService } from './admin-streams.service';
import { ADMIN_MODULE_OPTIONS, ADMIN_RESOLVED_OPTIONS } from './admin.constants';
import { AdminConfigurableModule } from './admin.module-definition';
import { resolveAdminOptions, type AdminModuleOptions } from './admin.options';

/**
 * The operations page: a JSON API and a small web UI (served by the module, no CDN, its own strict CSP) over the
 * library's features on the shared Redis: streams and dead letters (browse, read, redrive, delete), sessions of a
 * user (revoke), locks and semaphores held, cache counters and clear, scheduled jobs, Redis server facts. Every route
 * goes through the application's guard (option `guard`; without one the module refuses to start unless
 * `allowUnguarded`), `readOnly` refuses changes, and every change is logged with who made it. Needs RedisModule; the
 * other features are shown when the application has them.
 */
@Module({
  providers: [
    {
      provide: ADMIN_RESOLVED_OPTIONS,
      inject: [ADMIN_MODULE_OPTIONS],
      useFactory: (options: AdminModuleOptions) => resolveAdminOptions(options),
    },
    AdminAccessGuard,
    AdminStreamsService,
    AdminLocksService,
    AdminFeaturesService,
  ],
  exports: [AdminStreamsService, AdminLocksService, AdminFeaturesService],
})
export class AdminModule extends AdminConfigurableModule {}
