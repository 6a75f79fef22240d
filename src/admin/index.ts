export { AdminModule } from './admin.module';
export { adminControllers, type AdminModuleExtras } from './admin.module-definition';
export type { ADMIN_OPTIONS_TYPE, ADMIN_ASYNC_OPTIONS_TYPE } from './admin.module-definition';
export {
  resolveAdminOptions,
  defaultWho,
  type AdminModuleOptions,
  type ResolvedAdminOptions,
  type AdminWho,
} from './admin.options';
export { ADMIN_MODULE_OPTIONS, ADMIN_RESOLVED_OPTIONS, DEFAULT_ADMIN_PATH } from './admin.constants';
export { AdminAccessGuard } from './admin-access.guard';
export {
  AdminStreamsService,
  matchesFilter,
  type AdminStreamView,
  type AdminGroupView,
  type AdminConsumerView,
  type AdminDeadLetterView,
  type AdminDeadLetterPage,
  type AdminBulkResult,
  type DeadLetterFilter,
} from './admin-streams.service';
export {
  AdminLocksService,
  type AdminLockView,
  type AdminSemaphoreView,
  type AdminLocksView,
} from './admin-locks.service';
export {
  AdminFeaturesService,
  parseInfo,
  type AdminServerView,
  type AdminCacheView,
  type AdminOverview,
} from './admin-features.service';
export { AdminNotFoundError, AdminBusyError, AdminFeatureAbsentError } from './admin.errors';
export { ADMIN_CSP } from './admin-page.controller';
