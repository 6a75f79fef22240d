import { Module } from '@nestjs/common';
import { LockMetrics } from './lock.metrics';
import { LockConfigurableModule } from './lock.module-definition';
import { LockService } from './lock.service';
import { SemaphoreService } from './semaphore.service';
import { WithLockHandler } from './with-lock.handler';

/**
 * Distributed locks on the shared Redis provider (or on independent nodes): `LockService` and `@WithLock`; counting
 * semaphores (`SemaphoreService`, N holders, on the shared client).
 * Needs RedisModule (its method explorer wires `@WithLock`). `LockModule.forRoot({ nodes: [...] })` for a Redlock
 * quorum of independent servers.
 */
@Module({
  providers: [LockService, SemaphoreService, WithLockHandler, LockMetrics],
  exports: [LockService, SemaphoreService],
})
export class LockModule extends LockConfigurableModule {}
