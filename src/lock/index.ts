export { LockModule } from './lock.module';
export { LockService, type LockStats } from './lock.service';
export { LockHandle } from './lock.handle';
export {
  SemaphoreService,
  SemaphorePermit,
  MAX_SEMAPHORE_PERMITS,
  type SemaphoreOptions,
  type SemaphoreStats,
} from './semaphore.service';
export { WithLock, type WithLockMetadata } from './with-lock.decorator';
export { LockOptionsError, LockNotAcquiredError, LockLostError } from './lock.errors';
export { LOCK_MODULE_OPTIONS, WITH_LOCK_METADATA } from './lock.constants';
export { taggedResource, renderTemplate } from './lock.keys';
export type { LockModuleOptions, AcquireOptions, UsingOptions, ResolvedLockOptions } from './lock.options';
export { resolveLockOptions } from './lock.options';
export type { LockModuleExtras } from './lock.module-definition';
